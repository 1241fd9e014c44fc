"""Domain events of videos: their payload (the outbox row, the Kafka message and, later,
the webhook body) and the realtime shape pushed to `asset:{id}` and
`project:{project_id}` listeners (SSE, Socket.IO) once the transaction commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from streamcore.models import Asset
from streamcore.videos.schemas import VideoEvent, VideoEventType
from streamcore.videos.views import to_read

# Logical topic of the outbox rows; the relay maps it to `bus.topics.events`.
EVENTS_TOPIC = "events"


def asset_event(asset: Asset, kind: str = "status") -> dict[str, Any]:
    """The realtime shape of an asset's state (`status` or `progress`)."""
    return {
        "type": kind,
        "asset_id": asset.id,
        "project_id": asset.project_id,
        "status": str(asset.status),
        "progress": round(asset.progress * 100, 1),
        "eta_seconds": asset.eta_seconds,
        "playable": asset.playback_key is not None,
        "error": (
            {"class": asset.error_class, "message": asset.error_message}
            if asset.error_class
            else None
        ),
    }


def channels(asset_id: str, project_id: str) -> tuple[str, str]:
    return f"asset:{asset_id}", f"project:{project_id}"


def event_payload(
    event_id: str, kind: VideoEventType, occurred_at: datetime, asset: Asset
) -> dict[str, Any]:
    """{id, type, version, occurred_at, project_id, video_id, data} as JSON values."""
    event = VideoEvent(
        id=event_id,
        type=kind,
        occurred_at=occurred_at,
        project_id=asset.project_id,
        video_id=asset.id,
        data=to_read(asset, None),
    )
    return event.model_dump(mode="json", by_alias=True)


def realtime_payload(asset: Asset, event: dict[str, Any]) -> dict[str, Any]:
    """What SSE and Socket.IO listeners get for a committed event: the asset's state
    (as before events existed) plus the event's id and type."""
    return {**asset_event(asset), "event": event["type"], "event_id": event["id"]}
