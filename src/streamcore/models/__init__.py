"""All ORM tables; importing this package registers every one on Base.metadata."""

from streamcore.models.analytics import (
    AnalyticsEvent,
    AnalyticsPending,
    AnalyticsView,
    analytics_rollups,
)
from streamcore.models.api_key import ApiKey
from streamcore.models.asset import Asset, AssetSource, AssetStatus, TranscriptStatus
from streamcore.models.event import OutboxEvent
from streamcore.models.job import FINAL_JOB_STATUSES, Job, JobKind, JobStatus
from streamcore.models.logs import StreamLog, UploadLog
from streamcore.models.organization import Invitation, MemberRole, Membership, Organization
from streamcore.models.project import Project
from streamcore.models.refresh_token import RefreshToken
from streamcore.models.session import RecordingSession
from streamcore.models.upload import Upload, UploadMethod, UploadState
from streamcore.models.user import User
from streamcore.models.webhook import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from streamcore.models.worker import WorkerNode

__all__ = [
    "FINAL_JOB_STATUSES",
    "AnalyticsEvent",
    "AnalyticsPending",
    "AnalyticsView",
    "ApiKey",
    "Asset",
    "AssetSource",
    "AssetStatus",
    "DeliveryStatus",
    "Invitation",
    "Job",
    "JobKind",
    "JobStatus",
    "MemberRole",
    "Membership",
    "Organization",
    "OutboxEvent",
    "Project",
    "RecordingSession",
    "RefreshToken",
    "StreamLog",
    "TranscriptStatus",
    "Upload",
    "UploadLog",
    "UploadMethod",
    "UploadState",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WorkerNode",
    "analytics_rollups",
]
