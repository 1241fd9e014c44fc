"""Recordings of a session: a browser's MediaRecorder hands over WebM in chunks (its
`timeslice` blobs); each take becomes an asset of the session. Chunks are stored as
they come (a retried chunk replaces itself), and on completion they are joined, in
order, into the asset's source (MediaRecorder's blobs concatenate into one valid
WebM) and ingest is enqueued in the same transaction as the status change."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.adapters.storage.base import StorageUnavailable
from streamcore.errors import BadRequest, Conflict, NotFound, PayloadTooLarge, ServiceUnavailable
from streamcore.infra import Infra
from streamcore.models import Asset, AssetSource, AssetStatus, JobKind
from streamcore.processing import service as processing
from streamcore.sessions import service as sessions
from streamcore.videos import layout, lifecycle
from streamcore.videos import service as videos
from streamcore.videos.schemas import VideoDescription

MAX_CHUNKS = 100_000


def chunk_key(asset_id: str, index: int) -> str:
    return layout.chunk_key(asset_id, index)


async def start_take(
    session: AsyncSession,
    project_id: str,
    session_id: str,
    name: str,
    description: VideoDescription | None = None,
) -> Asset:
    """A new take of an open session (an ended one takes no recordings)."""
    sessions.require_open(await sessions.get_session(session, session_id))
    return await videos.create_asset(
        session,
        project_id=project_id,
        session_id=session_id,
        source=AssetSource.recording,
        filename=name or "recording.webm",
        content_type="video/webm",
        description=description,
    )


async def get_take(session: AsyncSession, session_id: str, asset_id: str) -> Asset:
    asset = await videos.get_asset(session, asset_id)
    if asset.session_id != session_id or asset.source is not AssetSource.recording:
        raise NotFound("recording not found")
    return asset


async def store_chunk(
    infra: Infra, asset: Asset, index: int, body: AsyncIterator[bytes], max_bytes: int
) -> int:
    _require_open(asset)
    if not 0 <= index < MAX_CHUNKS:
        raise BadRequest(f"chunk index must be between 0 and {MAX_CHUNKS - 1}")

    async def bounded() -> AsyncIterator[bytes]:
        size = 0
        async for part in body:
            size += len(part)
            if size > max_bytes:
                raise PayloadTooLarge(f"a chunk may hold at most {max_bytes} bytes")
            yield part

    try:
        size = await infra.storage.put_stream(chunk_key(asset.id, index), bounded())
    except StorageUnavailable as exc:
        raise ServiceUnavailable("object storage is unavailable") from exc
    if size == 0:
        await infra.storage.delete(chunk_key(asset.id, index))
        raise BadRequest("empty chunk")
    return size


async def complete_take(infra: Infra, session_id: str, asset_id: str, chunks: int) -> Asset:
    """Join chunks 0..chunks-1 into the source (no transaction held meanwhile), then
    mark the take uploaded and enqueue ingest in one transaction."""
    async with infra.transaction() as session:
        asset = await get_take(session, session_id, asset_id)
        _require_open(asset)
    keys = [chunk_key(asset_id, i) for i in range(chunks)]
    missing = [i for i, key in enumerate(keys) if not await infra.storage.exists(key)]
    if missing:
        raise BadRequest(f"chunks missing: {missing[:20]}")

    async def joined() -> AsyncIterator[bytes]:
        for key in keys:
            async for part in infra.storage.iter_range(key):
                yield part

    try:
        size = await infra.storage.put_stream(layout.source_key(asset_id), joined())
    except StorageUnavailable as exc:
        raise ServiceUnavailable("object storage is unavailable") from exc
    async with infra.transaction() as session:
        asset = await get_take(session, session_id, asset_id)
        _require_open(asset)
        await lifecycle.mark_uploaded(session, asset, size)
        await processing.enqueue(
            session, asset.id, JobKind.ingest, max_attempts=infra.settings.worker.max_attempts
        )
    # The chunks are not needed once the source is whole.
    await infra.storage.delete_prefix(layout.chunks_prefix(asset_id))
    return asset


def _require_open(asset: Asset) -> None:
    if asset.status is not AssetStatus.awaiting_upload:
        raise Conflict(f"the recording is {asset.status}, it takes no more chunks")
