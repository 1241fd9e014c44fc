from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import status as http
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.auth.dependencies import Action, Principal, PrincipalDep, PrincipalKind, authorize
from streamcore.deps import InfraDep, SessionDep
from streamcore.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    error_responses,
)
from streamcore.infra import Infra
from streamcore.inputs import PathId
from streamcore.models import Asset, AssetSource, AssetStatus
from streamcore.projects import service as projects
from streamcore.stream import service as stream
from streamcore.transcripts import service as transcripts
from streamcore.videos import deletion, library, service
from streamcore.videos.events import asset_event
from streamcore.videos.library import VideoQuery
from streamcore.videos.schemas import (
    VideoEvent,
    VideoEventType,
    VideoPage,
    VideoRead,
    VideoUpdate,
)

router = APIRouter(tags=["videos"])

SSE_KEEPALIVE_SECONDS = 15.0
FINAL = {"ready", "failed", "cancelled", "deleted"}


def _signed_url(
    request: Request, infra: Infra, asset: Asset, path: str | None, ttl: int | None
) -> str | None:
    if path is None:
        return None
    name = stream.signed_name(infra, asset.id, path, ttl=ttl)
    return str(request.url_for("stream", token=name))


def read_video(request: Request, infra: Infra, asset: Asset, ttl: int | None = None) -> VideoRead:
    """The video as the API shows it, with signed URLs valid ttl seconds (the project's
    playback TTL; None: the server's). A deleting or deleted video has none."""
    if asset.status in library.GONE:
        return service.to_read(asset, None)
    urls: dict[str, Any] = {}
    d = asset.derivatives or {}
    for kind in ("mp3", "mp4", "storyboard", "storyboard_vtt"):
        urls[kind] = _signed_url(request, infra, asset, d.get(kind), ttl)
    urls["posters"] = {
        width: _signed_url(request, infra, asset, path, ttl)
        for width, path in (d.get("posters") or {}).items()
    }
    playback = embed = None
    if asset.playback_key:
        name = stream.signed_name(infra, asset.id, stream.MASTER, ttl=ttl)
        playback = str(request.url_for("stream", token=name))
        # The player page takes the master's token: it derives the playlist URL from it.
        embed = str(request.url_for("embed", token=name.partition(".")[0]))

    def link(path: str) -> str:
        return _signed_url(request, infra, asset, path, ttl) or ""

    return service.to_read(asset, playback, urls, transcripts.to_read(asset, link), embed_url=embed)


async def _read(request: Request, session: AsyncSession, infra: Infra, asset: Asset) -> VideoRead:
    ttl = await projects.playback_ttl(session, asset.project_id)
    return read_video(request, infra, asset, ttl)


LIST_PARAMS = frozenset(
    {
        "project_id", "session_id", "status", "source", "created_after", "created_before",
        "q", "external_id", "include_deleted", "cursor", "limit",
    }
)  # fmt: skip


async def _visible_projects(
    session: AsyncSession, principal: Principal, project_id: str | None
) -> list[str] | None:
    """Projects whose videos the caller may list (None: every project)."""
    if project_id is None and principal.kind is PrincipalKind.api_key:
        project_id = principal.project_id or ""
    if project_id is not None:
        await authorize(session, principal, project_id, Action.read)
        return [project_id]
    if principal.is_superadmin:
        return None
    return [p.id for p in await projects.list_visible(session, principal)]


@router.get(
    "/videos",
    response_model=VideoPage,
    responses=error_responses(BadRequest, Unauthorized, Forbidden, NotFound),
)
async def list_videos(
    request: Request,
    session: SessionDep,
    infra: InfraDep,
    principal: PrincipalDep,
    project_id: str | None = None,
    session_id: str | None = None,
    status: Annotated[list[AssetStatus] | None, Query(description="Repeat for several")] = None,
    source: Annotated[list[AssetSource] | None, Query(description="Repeat for several")] = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    q: Annotated[str | None, Query(max_length=200, description="In title or filename")] = None,
    external_id: str | None = None,
    include_deleted: Annotated[bool, Query(description="Include tombstones")] = False,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=library.MAX_PAGE)] = library.DEFAULT_PAGE,
) -> VideoPage:
    """The videos the caller can see, newest first, a page at a time: pass `next_cursor`
    back as `cursor` (the other parameters unchanged) for the next page."""
    unknown = sorted(set(request.query_params) - LIST_PARAMS)
    if unknown:
        raise BadRequest(f"unknown query parameter(s): {', '.join(unknown)}")
    query = VideoQuery(
        project_ids=await _visible_projects(session, principal, project_id),
        session_id=session_id,
        statuses=status,
        sources=source,
        created_after=_aware(created_after),
        created_before=_aware(created_before),
        text=q,
        external_id=external_id,
        include_deleted=include_deleted,
    )
    page = await library.list_videos(session, query, cursor=cursor, limit=limit)
    ttls: dict[str, int | None] = {}
    data = []
    for asset in page.assets:
        if asset.project_id not in ttls:
            ttls[asset.project_id] = await projects.playback_ttl(session, asset.project_id)
        data.append(read_video(request, infra, asset, ttls[asset.project_id]))
    return VideoPage(data=data, next_cursor=page.next_cursor)


def _aware(value: datetime | None) -> datetime | None:
    """Times without a zone are UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


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
    return await _read(request, session, infra, asset)


@router.patch(
    "/videos/{video_id}",
    response_model=VideoRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def update_video(
    video_id: str,
    body: VideoUpdate,
    request: Request,
    session: SessionDep,
    infra: InfraDep,
    principal: PrincipalDep,
) -> VideoRead:
    """Change a video's title, description, external_id, passthrough or metadata
    (the fields sent replace the stored ones; null clears one). Emits `video.updated`."""
    asset = await service.get_asset(session, video_id, for_update=True)
    await authorize(
        session, principal, asset.project_id, Action.upload, not_found="video not found"
    )
    await library.update_video(session, asset, body)
    return await _read(request, session, infra, asset)


@router.delete(
    "/videos/{video_id}",
    status_code=http.HTTP_202_ACCEPTED,
    response_model=VideoRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def delete_video(
    video_id: str, request: Request, session: SessionDep, infra: InfraDep, principal: PrincipalDep
) -> VideoRead:
    """Delete a video: playback stops at once, its jobs are stopped and a purge removes
    every file; it then stays as a `deleted` tombstone. Deleting again answers the same."""
    asset = await service.get_asset(session, video_id)
    await authorize(
        session, principal, asset.project_id, Action.upload, not_found="video not found"
    )
    asset = await deletion.delete_video(session, video_id)
    return service.to_read(asset, None)


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
