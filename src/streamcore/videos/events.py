"""Status changes of an asset are pushed to listeners of `asset:{id}` and
`project:{project_id}` once the transaction that made them commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import object_session

from streamcore.db.session import AFTER_COMMIT
from streamcore.models import Asset


def asset_event(asset: Asset, kind: str = "status") -> dict[str, Any]:
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


@event.listens_for(Asset.status, "set")
@event.listens_for(Asset.playback_key, "set")
def _on_change(target: Asset, value: Any, oldvalue: Any, initiator: Any) -> None:
    session = object_session(target)
    if session is None or value == oldvalue:
        return

    async def publish(infra: Any) -> None:
        payload = asset_event(target)
        for channel in channels(target.id, target.project_id):
            await infra.realtime.publish(channel, payload)

    session.info.setdefault(AFTER_COMMIT, {})[f"asset:{target.id}"] = publish
