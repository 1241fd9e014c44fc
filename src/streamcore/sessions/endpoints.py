from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from streamcore.auth.dependencies import Action, PrincipalDep, authorize
from streamcore.db.cursor import decode_cursor, encode_cursor
from streamcore.deps import InfraDep, SessionDep
from streamcore.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthorized,
    error_responses,
)
from streamcore.inputs import PathId
from streamcore.projects import service as projects
from streamcore.sessions import recordings, service
from streamcore.sessions.schemas import SessionCreate, SessionPage, SessionRead, SessionUpdate
from streamcore.videos import service as videos
from streamcore.videos.schemas import VideoDescription, VideoRead

router = APIRouter(tags=["sessions"])

MAX_PAGE = 100


@router.post(
    "/sessions",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def create_session(
    body: SessionCreate, session: SessionDep, principal: PrincipalDep
) -> SessionRead:
    """Create a recording session in a project."""
    project = await projects.get_project(session, body.project_id)
    await authorize(session, principal, project.id, Action.upload)
    rec = await service.create_session(session, project.id, body.name)
    return SessionRead.model_validate(rec)


@router.get(
    "/sessions",
    response_model=SessionPage,
    responses=error_responses(BadRequest, Unauthorized, Forbidden, NotFound),
)
async def list_sessions(
    session: SessionDep,
    principal: PrincipalDep,
    project_id: str,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 25,
) -> SessionPage:
    """The recording sessions of a project, newest first, a page at a time."""
    await authorize(session, principal, project_id, Action.read)
    after = decode_cursor(cursor) if cursor else None
    rows = await service.list_sessions(session, project_id, after=after, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    last = page[-1] if more else None
    return SessionPage(
        data=[SessionRead.model_validate(r) for r in page],
        next_cursor=encode_cursor(last.created_at, last.id) if last else None,
    )


@router.patch(
    "/sessions/{session_id}",
    response_model=SessionRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def update_session(
    session_id: str, body: SessionUpdate, session: SessionDep, principal: PrincipalDep
) -> SessionRead:
    """Rename a session, or end it (`"ended": true`): no more joins or recordings."""
    rec = await service.get_session(session, session_id)
    await authorize(
        session, principal, rec.project_id, Action.upload, not_found="session not found"
    )
    rec = await service.get_session(session, session_id, for_update=True)
    rec = await service.update_session(session, rec, name=body.name, ended=body.ended)
    return SessionRead.model_validate(rec)


@router.get(
    "/sessions/{session_id}",
    response_model=SessionRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def get_session(
    session_id: PathId, session: SessionDep, principal: PrincipalDep
) -> SessionRead:
    """Get a recording session."""
    rec = await service.get_session(session, session_id)
    await authorize(session, principal, rec.project_id, Action.read, not_found="session not found")
    return SessionRead.model_validate(rec)


class TakeCreate(VideoDescription):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(default="", max_length=200)


class TakeComplete(BaseModel):
    chunks: int = Field(ge=1, le=recordings.MAX_CHUNKS, description="Number of chunks sent")


@router.post(
    "/sessions/{session_id}/recordings",
    status_code=status.HTTP_201_CREATED,
    response_model=VideoRead,
    responses=error_responses(NotFound, Conflict),
)
async def start_recording(
    session_id: PathId, body: TakeCreate, session: SessionDep, principal: PrincipalDep
) -> VideoRead:
    """Start a take: a new asset of the session that receives MediaRecorder chunks."""
    rec = await service.get_session(session, session_id)
    await authorize(
        session, principal, rec.project_id, Action.upload, not_found="session not found"
    )
    description = VideoDescription.model_validate(body.model_dump(exclude={"name"}))
    asset = await recordings.start_take(session, rec.project_id, rec.id, body.name, description)
    return videos.to_read(asset, None)


@router.put(
    "/sessions/{session_id}/recordings/{video_id}/chunks/{index}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(BadRequest, NotFound, Conflict, PayloadTooLarge, ServiceUnavailable),
)
async def put_recording_chunk(
    session_id: PathId,
    video_id: PathId,
    index: Annotated[int, Path(ge=0, lt=recordings.MAX_CHUNKS)],
    request: Request,
    infra: InfraDep,
    principal: PrincipalDep,
) -> None:
    """Store chunk `index` (0-based) of a take; sending the same index again replaces it."""
    async with infra.transaction() as session:
        asset = await recordings.get_take(session, session_id, video_id)
        await authorize(
            session, principal, asset.project_id, Action.upload, not_found="recording not found"
        )
    # No transaction is held while the bytes stream in.
    await recordings.store_chunk(
        infra, asset, index, request.stream(), infra.settings.upload.max_chunk_bytes
    )


@router.post(
    "/sessions/{session_id}/recordings/{video_id}/complete",
    response_model=VideoRead,
    responses=error_responses(BadRequest, NotFound, Conflict, PayloadTooLarge, ServiceUnavailable),
)
async def complete_recording(
    session_id: PathId,
    video_id: PathId,
    body: TakeComplete,
    infra: InfraDep,
    principal: PrincipalDep,
) -> VideoRead:
    """Join the take's chunks into its source and send it through the pipeline."""
    async with infra.transaction() as session:
        asset = await recordings.get_take(session, session_id, video_id)
        await authorize(
            session, principal, asset.project_id, Action.upload, not_found="recording not found"
        )
    asset = await recordings.complete_take(infra, session_id, video_id, body.chunks)
    return videos.to_read(asset, None)
