"""Recordings of a session: a browser's MediaRecorder hands over WebM in chunks (its
`timeslice` blobs); each take becomes an asset of the session. Chunks are stored as
they come (a retried chunk replaces itself), and on completion they are joined, in
order, into the asset's source (MediaRecorder's blobs concatenate into one valid
WebM) and ingest is enqueued in the same transaction as the status change."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.adapters.storage.base import ObjectNotFound, StorageUnavailable, chain_objects
from streamcore.errors import BadRequest, Conflict, NotFound, PayloadTooLarge, ServiceUnavailable
from streamcore.infra import Infra
from streamcore.models import Asset, AssetSource, AssetStatus, JobKind
from streamcore.processing import service as processing
from streamcore.sessions import service as sessions
from streamcore.uploads.limits import Allowance, allowance
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
    """The take; a missing video and one of another session read the same."""
    asset = await videos.find_asset(session, asset_id)
    if asset is None or asset.session_id != session_id or asset.source is not AssetSource.recording:
        raise NotFound("recording not found")
    return asset


async def take_allowance(infra: Infra, asset: Asset) -> Allowance:
    """The take's share of the upload limit and the project's quota."""
    async with infra.transaction() as session:
        return await allowance(infra, session, asset.project_id)


async def store_chunk(
    infra: Infra, asset: Asset, index: int, body: AsyncIterator[bytes], max_bytes: int
) -> int:
    _require_open(asset)
    if not 0 <= index < MAX_CHUNKS:
        raise BadRequest(f"chunk index must be between 0 and {MAX_CHUNKS - 1}")
    allowed = await take_allowance(infra, asset)
    if max_bytes < allowed.limit:
        allowed = Allowance(max_bytes)
    key = chunk_key(asset.id, index)
    try:
        size = await infra.storage.put_stream(key, allowed.cap(body))
    except StorageUnavailable as exc:
        raise ServiceUnavailable("object storage is unavailable") from exc
    if size == 0:
        await infra.storage.delete(key)
        raise BadRequest("empty chunk")
    return size


async def _chunk_keys(infra: Infra, asset_id: str, chunks: int, allowed: Allowance) -> list[str]:
    """Keys of chunks 0..chunks-1, checked in order: the first missing one ends the
    walk (a huge count costs one lookup past the last chunk sent), and so does a total
    past the allowance."""
    keys, total = [], 0
    for index in range(chunks):
        key = chunk_key(asset_id, index)
        try:
            total += (await infra.storage.stat(key)).size
        except ObjectNotFound:
            raise Conflict(f"chunk {index} is missing ({index} of {chunks} received)") from None
        allowed.check(total)
        keys.append(key)
    return keys


async def complete_take(infra: Infra, session_id: str, asset_id: str, chunks: int) -> Asset:
    """Join chunks 0..chunks-1 into the source (no transaction held meanwhile), then
    mark the take uploaded and enqueue ingest in one transaction. A take over the
    allowance is refused (413) and keeps no bytes: its chunks go, the video fails."""
    async with infra.transaction() as session:
        asset = await get_take(session, session_id, asset_id)
        _require_open(asset)
    allowed = await take_allowance(infra, asset)
    source = layout.source_key(asset_id)
    try:
        keys = await _chunk_keys(infra, asset_id, chunks, allowed)
        joined = allowed.cap(chain_objects(infra.storage, keys))
        size = await infra.storage.put_stream(source, joined)
    except StorageUnavailable as exc:
        raise ServiceUnavailable("object storage is unavailable") from exc
    except PayloadTooLarge:
        await _refuse_take(infra, asset_id, source)
        raise
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


async def _refuse_take(infra: Infra, asset_id: str, source: str) -> None:
    with anyio.CancelScope(shield=True):
        await infra.storage.delete_prefix(layout.chunks_prefix(asset_id))
        await infra.storage.delete(source)
        async with infra.transaction() as session:
            asset = await videos.get_asset(session, asset_id, for_update=True)
            if asset.status is AssetStatus.awaiting_upload:
                await lifecycle.fail(
                    session, asset, "PayloadTooLarge", "the recording is over the size limit"
                )


def _require_open(asset: Asset) -> None:
    if asset.status is not AssetStatus.awaiting_upload:
        raise Conflict(f"the recording is {asset.status}, it takes no more chunks")
