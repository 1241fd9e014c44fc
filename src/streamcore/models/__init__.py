"""All ORM tables; importing this package registers every one on Base.metadata."""

from streamcore.models.asset import Asset, AssetSource, AssetStatus
from streamcore.models.job import Job, JobKind, JobStatus
from streamcore.models.logs import StreamLog, UploadLog
from streamcore.models.organization import MemberRole, Membership, Organization
from streamcore.models.project import Project
from streamcore.models.session import RecordingSession
from streamcore.models.upload import Upload, UploadMethod, UploadState
from streamcore.models.user import User

__all__ = [
    "Asset",
    "AssetSource",
    "AssetStatus",
    "Job",
    "JobKind",
    "JobStatus",
    "MemberRole",
    "Membership",
    "Organization",
    "Project",
    "RecordingSession",
    "StreamLog",
    "Upload",
    "UploadLog",
    "UploadMethod",
    "UploadState",
    "User",
]
