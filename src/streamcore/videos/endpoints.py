from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from streamcore.auth.dependencies import Action, PrincipalDep, authorize
from streamcore.deps import InfraDep, SessionDep
from streamcore.errors import NotFound, error_responses
from streamcore.infra import Infra
from streamcore.inputs import PathId
from streamcore.models import Asset
from streamcore.stream import service as stream
from streamcore.transcripts import service as transcripts
from streamcore.videos import service
from streamcore.videos.events import asset_event
from streamcore.videos.schemas import VideoEvent, VideoEventType, VideoRead

router = APIRouter(tags=["videos"])

SSE_KEEPALIVE_SECONDS = 15.0
FINAL = {"ready", "failed", "cancelled"}


def _signed_url(request: Request, infra: Infra, asset: Asset, path: str | None) -> str | None:
    if path is None:
        return None
    return str(request.url_for("stream", token=stream.signed_name(infra, asset.id, path)))


def _read(request: Request, infra: Infra, asset: Asset) -> VideoRead:
    urls: dict[str, Any] = {}
    d = asset.derivatives or {}
    for kind in ("mp3", "mp4", "storyboard", "storyboard_vtt"):
        urls[kind] = _signed_url(request, infra, asset, d.get(kind))
    urls["posters"] = {
        width: _signed_url(request, infra, asset, path)
        for width, path in (d.get("posters") or {}).items()
    }
    playback = _signed_url(request, infra, asset, stream.MASTER) if asset.playback_key else None

    def link(path: str) -> str:
        return _signed_url(request, infra, asset, path) or ""

    return service.to_read(asset, playback, urls, transcripts.to_read(asset, link))


@router.get("/videos/{video_id}", response_model=VideoRead, responses=error_responses(NotFound))
async def get_video(
    video_id: PathId,
    request: Request,
    session: SessionDep,
    infra: InfraDep,
    principal: PrincipalDep,
) -> VideoRead:
    """Video metadata, status, progress and, once playable, signed playback URLs."""
    asset = await service.get_asset(session, video_id)
    await authorize(session, principal, asset.project_id, Action.read, not_found="video not found")
    return _read(request, infra, asset)


@router.get(
    "/videos/{video_id}/events",
    responses={
        **error_responses(NotFound),
        200: {"content": {"text/event-stream": {}}, "description": "Server-sent events"},
    },
    response_class=StreamingResponse,
)
async def video_events(
    video_id: PathId, session: SessionDep, infra: InfraDep, principal: PrincipalDep
) -> StreamingResponse:
    """Live status and progress (with ETA) of a video as server-sent events."""
    asset = await service.get_asset(session, video_id)
    await authorize(session, principal, asset.project_id, Action.read, not_found="video not found")

    async def events() -> AsyncIterator[bytes]:
        async with infra.realtime.subscribe(f"asset:{video_id}") as queue:
            # Read the state after subscribing, so no change falls between the two.
            async with infra.transaction() as s:
                event = asset_event(await service.get_asset(s, video_id))
            while True:
                yield f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
                if event["status"] in FINAL and event["type"] == "status":
                    return
                while True:
                    try:
                        event = await asyncio.wait_for(queue.get(), SSE_KEEPALIVE_SECONDS)
                        break
                    except TimeoutError:
                        yield b": keep-alive\n\n"

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


# The domain events, documented as OpenAPI webhooks (the `VideoEventV1` component): what
# the Kafka events topic, SSE/Socket.IO listeners and webhook receivers are sent.
events_router = APIRouter(tags=["events"])


def _document_event(kind: VideoEventType) -> None:
    async def receiver(event: VideoEvent) -> None:
        return None

    receiver.__doc__ = f"`{kind.value}`: sent once the change it records has committed."
    events_router.add_api_route(
        kind.value, receiver, methods=["POST"], name=kind.value, status_code=204
    )


for _kind in VideoEventType:
    _document_event(_kind)
