"""All ORM tables; importing this package registers every one on Base.metadata."""

from streamcore.models.asset import Asset, AssetSource, AssetStatus
from streamcore.models.job import FINAL_JOB_STATUSES, Job, JobKind, JobStatus
from streamcore.models.logs import StreamLog, UploadLog
from streamcore.models.organization import MemberRole, Membership, Organization
from streamcore.models.project import Project
from streamcore.models.session import RecordingSession
from streamcore.models.user import User
from streamcore.models.worker import WorkerNode

__all__ = [
    "FINAL_JOB_STATUSES",
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
    "UploadLog",
    "User",
    "WorkerNode",
]
