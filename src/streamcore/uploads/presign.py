"""Presigned uploads: the client sends the bytes straight to object storage (an S3
presigned PUT or multipart part URLs, an Azure SAS URL) or, on local storage, to an
HMAC-signed URL of the API itself; then it calls complete, which checks the object and
enqueues ingest."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.adapters.storage.base import ObjectNotFound, UploadIncomplete
from streamcore.db.base import new_id
from streamcore.errors import BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge
from streamcore.infra import Infra
from streamcore.models import Asset, AssetSource, AssetStatus, Upload, UploadMethod, UploadState
from streamcore.projects import service as projects
from streamcore.uploads import signing
from streamcore.uploads.errors import SizeMismatch, UploadNotComplete
from streamcore.uploads.limits import allowance
from streamcore.uploads.repository import UploadRepository
from streamcore.uploads.schemas import PartRead, PresignCreate, PresignRead
from streamcore.uploads.service import (
    Attempt,
    UploadClient,
    check_session,
    discard_and_log,
    mark_uploaded,
    translate_storage_error,
)
from streamcore.videos import service as videos

log = structlog.get_logger(__name__)

# S3 allows at most 10,000 parts per upload.
MAX_PARTS = 10_000


@dataclass
class Urls:
    """URLs of the API itself, built by the endpoint from the request."""

    local_put: Callable[[str], str]
    complete: Callable[[str], str]


def part_size_for(size: int, preferred: int) -> int:
    """The preferred part size, grown when the file would need more than MAX_PARTS."""
    return max(preferred, math.ceil(size / MAX_PARTS))


async def create(
    infra: Infra, session: AsyncSession, body: PresignCreate, principal: str, urls: Urls
) -> PresignRead:
    """Create the asset (awaiting_upload) and the requests that upload its bytes."""
    settings = infra.settings
    await projects.get_project(session, body.project_id)
    if body.session_id:
        await check_session(session, body.project_id, body.session_id)
    await allowance(infra, session, body.project_id, body.size)
    ttl = settings.storage.presign_ttl_seconds
    expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=ttl)
    asset = await videos.create_asset(
        session,
        project_id=body.project_id,
        session_id=body.session_id,
        source=AssetSource.upload,
        filename=body.filename,
        content_type=body.content_type,
        size_bytes=body.size,
        description=body.video_description(),
    )
    upload = Upload(
        id=new_id(),
        asset_id=asset.id,
        project_id=body.project_id,
        method=UploadMethod.presign,
        state=UploadState.open,
        key=asset.source_key,
        size_bytes=body.size,
        principal=principal[:128],
        expires_at=expires_at,
        chunk_keys=[],
        meta={"filename": body.filename, "content_type": body.content_type},
    )
    out = PresignRead(
        asset_id=asset.id,
        upload_id=upload.id,
        method="single",
        url=None,
        headers={},
        parts=[],
        part_size=None,
        expires_at=expires_at,
        complete_url=urls.complete(asset.id),
    )
    storage = infra.storage
    try:
        if not storage.presigns:
            exp = int(expires_at.timestamp())
            sig = signing.sign(settings.resolved_secret(), asset.id, upload.id, exp)
            out.url = f"{urls.local_put(asset.id)}?upload={upload.id}&exp={exp}&sig={sig}"
            out.headers = {"Content-Type": "application/octet-stream"}
        elif body.size <= settings.upload.multipart_threshold_bytes:
            req = await storage.presign_put(
                asset.source_key, expires_in=ttl, content_type=body.content_type
            )
            out.url, out.headers = req.url, req.headers
        else:
            part = part_size_for(body.size, settings.upload.multipart_part_bytes)
            count = math.ceil(body.size / part)
            upload_id = await storage.create_multipart(
                asset.source_key, content_type=body.content_type
            )
            upload.method = UploadMethod.multipart
            upload.storage_upload_id = upload_id
            upload.part_bytes, upload.part_count = part, count
            out.method, out.part_size = "multipart", part
            for n in range(1, count + 1):
                req = await storage.presign_part(asset.source_key, upload_id, n, expires_in=ttl)
                size = min(part, body.size - (n - 1) * part)
                out.parts.append(PartRead(part_number=n, url=req.url, size=size))
    except Exception as exc:
        raise translate_storage_error(exc) from exc
    await UploadRepository(session).add(upload)
    return out


async def _open_upload(session: AsyncSession, asset_id: str) -> tuple[Asset, Upload]:
    asset = await videos.get_asset(session, asset_id, for_update=True)
    upload = await UploadRepository(session).latest_for_asset(asset_id, for_update=True)
    if upload is None or upload.method is UploadMethod.tus:
        raise NotFound("no presigned upload for this video")
    return asset, upload


async def receive_object(
    infra: Infra,
    *,
    asset_id: str,
    upload_id: str,
    expires_at: int,
    sig: str,
    content_length: int | None,
    body: AsyncIterator[bytes],
    client: UploadClient,
) -> int:
    """The local backend's presigned PUT: stream the body to the asset's source key."""
    if not signing.verify(infra.settings.resolved_secret(), asset_id, upload_id, expires_at, sig):
        raise Forbidden("invalid or expired upload URL")
    async with infra.transaction() as session:
        asset, upload = await _open_upload(session, asset_id)
        if upload.id != upload_id:
            raise Forbidden("invalid or expired upload URL")
        if upload.state is not UploadState.open or asset.status is not AssetStatus.awaiting_upload:
            raise Conflict("this upload is already complete")
        declared = upload.size_bytes
    attempt = Attempt(infra, client, "presign", asset.project_id, asset_id, asset.filename)
    if content_length is not None and content_length != declared:
        exc = BadRequest(f"Content-Length {content_length} differs from the declared {declared}")
        await attempt.failed(exc)
        raise exc
    received = 0

    async def capped() -> AsyncIterator[bytes]:
        nonlocal received
        async for chunk in body:
            received += len(chunk)
            if received > declared:
                raise PayloadTooLarge(f"more than the declared {declared} bytes")
            yield chunk

    stored = False
    try:
        size = await infra.storage.put_stream(asset.source_key, capped())
        stored = True
        if size != declared:
            raise SizeMismatch(f"received {size} bytes, {declared} were declared")
    except BaseException as exc:
        attempt.received = received
        await discard_and_log(infra, attempt, asset.source_key if stored else None, exc)
    return size


async def complete(infra: Infra, asset_id: str, client: UploadClient) -> Asset:
    """Check the object is complete and of the declared size, then mark the asset
    uploaded and enqueue ingest in the same transaction. Completing twice is harmless."""
    async with infra.transaction() as session:
        asset, upload = await _open_upload(session, asset_id)
    attempt = Attempt(infra, client, upload.method.value, asset.project_id, asset_id)
    attempt.filename = asset.filename
    if upload.state is UploadState.completed:
        return asset
    if upload.state is UploadState.aborted or asset.status is not AssetStatus.awaiting_upload:
        raise Conflict("this upload was abandoned; request a new one")
    key = upload.key
    try:
        # Storage first, outside any transaction: on SQLite a transaction holds the one
        # write lock, and joining parts can take seconds.
        size = await _stored_size(infra, upload)
        attempt.received = size
        if size != upload.size_bytes:
            raise SizeMismatch(f"stored {size} bytes, {upload.size_bytes} were declared")
        async with infra.transaction() as session:
            asset, upload = await _open_upload(session, asset_id)
            if upload.state is UploadState.completed:
                return asset
            if (
                upload.state is UploadState.aborted
                or asset.status is not AssetStatus.awaiting_upload
            ):
                raise Conflict("this upload was abandoned; request a new one")
            upload.state = UploadState.completed
            await mark_uploaded(infra, session, asset, size)
            await attempt.succeeded(session, size)
    except SizeMismatch as exc:
        await _discard_mismatch(infra, asset_id, key)
        await discard_and_log(infra, attempt, None, exc)
    except BaseException as exc:
        await discard_and_log(infra, attempt, None, exc)
    log.info("upload.completed", asset_id=asset_id, size=size, method=upload.method.value)
    return asset


async def _stored_size(infra: Infra, upload: Upload) -> int:
    """The size of the complete object: multipart parts joined first. A multipart upload
    joined before (a complete whose commit was lost) is found as the object itself."""
    storage = infra.storage
    try:
        if upload.method is UploadMethod.multipart:
            assert upload.storage_upload_id
            assert upload.part_count
            try:
                return await storage.complete_multipart(
                    upload.key, upload.storage_upload_id, upload.part_count
                )
            except (ObjectNotFound, UploadIncomplete):
                joined = await storage.stat(upload.key)
                if joined.size != upload.size_bytes:
                    raise
                return joined.size
        return (await storage.stat(upload.key)).size
    except (ObjectNotFound, UploadIncomplete) as exc:
        log.info("upload.incomplete", asset_id=upload.asset_id, reason=str(exc)[:300])
        raise UploadNotComplete() from exc


async def _discard_mismatch(infra: Infra, asset_id: str, key: str) -> None:
    """An object of the wrong size is removed. A joined multipart upload cannot take
    parts again, so it is marked aborted and the client asks for a new one."""
    with anyio.CancelScope(shield=True):
        await infra.storage.delete(key)
        async with infra.transaction() as session:
            upload = await UploadRepository(session).latest_for_asset(asset_id, for_update=True)
            if upload is not None and upload.method is UploadMethod.multipart:
                upload.state = UploadState.aborted
