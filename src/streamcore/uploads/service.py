"""Receiving uploads: stream the bytes to storage first, then write the asset and its
ingest job in one transaction, so no asset ever points at an incomplete object.

Shared by every way in (multipart form, presigned PUT, tus, URL import): the upload
log, the storage error translation and the "uploaded + ingest job" step."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import NoReturn

import anyio
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.adapters.storage.base import InvalidKey, StorageUnavailable
from streamcore.db.base import new_id
from streamcore.errors import AppError, BadRequest, NotFound, ServiceUnavailable
from streamcore.infra import Infra
from streamcore.inputs import parse_id
from streamcore.models import Asset, AssetSource, JobKind, UploadLog
from streamcore.processing import service as processing
from streamcore.projects import service as projects
from streamcore.sessions import service as sessions
from streamcore.uploads.limits import Allowance, allowance
from streamcore.uploads.multipart import MultipartStream
from streamcore.uploads.repository import UploadLogRepository
from streamcore.videos import layout, library, lifecycle
from streamcore.videos import service as videos
from streamcore.videos.schemas import VideoDescription

log = structlog.get_logger(__name__)

# Form fields and part headers around the file, on top of the file's own allowance.
MULTIPART_OVERHEAD = 64 * 1024


@dataclass
class UploadClient:
    principal: str
    ip: str | None
    user_agent: str | None


@dataclass
class Attempt:
    """One upload attempt, for the upload log and the metrics."""

    infra: Infra
    client: UploadClient
    method: str
    project_id: str | None
    asset_id: str | None = None
    filename: str = ""
    received: int = 0
    started: float = field(default_factory=time.monotonic)

    def entry(self, result: str, detail: str | None, size: int | None = None) -> UploadLog:
        return UploadLog(
            project_id=self.project_id,
            asset_id=self.asset_id,
            principal=self.client.principal,
            method=self.method,
            filename=self.filename[:255],
            size_bytes=self.received if size is None else size,
            duration_seconds=time.monotonic() - self.started,
            result=result[:32],
            detail=detail,
            client_ip=self.client.ip,
            user_agent=(self.client.user_agent or "")[:512] or None,
        )

    async def succeeded(self, session: AsyncSession, size: int, result: str = "ok") -> None:
        """Log success inside the caller's transaction (it commits with the asset)."""
        await UploadLogRepository(session).add(self.entry(result, None, size))
        self.infra.metrics.uploads.labels(self.method, result).inc()
        if result == "ok":
            self.infra.metrics.upload_bytes.labels(self.method).inc(size)

    async def failed(self, exc: BaseException) -> None:
        """Log a failure in a transaction of its own (the request's was rolled back)."""
        result = exc.name if isinstance(exc, AppError) else "error"
        self.infra.metrics.uploads.labels(self.method, result).inc()
        detail = str(exc)[:1000] or type(exc).__name__
        try:
            async with self.infra.transaction() as session:
                await UploadLogRepository(session).add(self.entry(result, detail))
        except Exception:
            log.warning("upload.log_failed", exc_info=True)


def translate_storage_error(exc: BaseException) -> BaseException:
    """Storage errors as the client should see them; anything else unchanged."""
    if isinstance(exc, StorageUnavailable):
        return ServiceUnavailable("object storage is unavailable")
    if isinstance(exc, InvalidKey):
        return BadRequest("invalid object key")
    return exc


async def check_session(session: AsyncSession, project_id: str, session_id: str) -> None:
    rec = await sessions.get_session(session, session_id)
    if rec.project_id != project_id:
        raise NotFound("session not found")


async def check_target(
    infra: Infra, project_id: str, session_id: str | None, declared: int | None = None
) -> Allowance:
    """The project (and session) exist and the upload fits its allowance; checked in
    a short transaction of its own, so none is held open while a body streams in."""
    async with infra.transaction() as session:
        await projects.get_project(session, project_id)
        if session_id:
            await check_session(session, project_id, session_id)
        return await allowance(infra, session, project_id, declared)


async def mark_uploaded(infra: Infra, session: AsyncSession, asset: Asset, size: int) -> None:
    """The object is complete in storage: the asset becomes `uploaded` and its ingest
    job is written in the same transaction."""
    await lifecycle.mark_uploaded(session, asset, size)
    await processing.enqueue(
        session, asset.id, JobKind.ingest, max_attempts=infra.settings.worker.max_attempts
    )


async def register_stored(
    infra: Infra,
    attempt: Attempt,
    *,
    asset_id: str,
    source: AssetSource,
    size: int,
    content_type: str,
    session_id: str | None,
    source_url: str | None = None,
    description: VideoDescription | None = None,
) -> Asset:
    """Create the asset for an object already stored under its source key."""
    async with infra.transaction() as session:
        asset = await videos.create_asset(
            session,
            asset_id=asset_id,
            project_id=attempt.project_id or "",
            session_id=session_id,
            source=source,
            filename=attempt.filename,
            content_type=content_type,
            size_bytes=size,
            source_url=source_url,
            description=description,
        )
        await mark_uploaded(infra, session, asset, size)
        await attempt.succeeded(session, size)
    log.info("upload.stored", asset_id=asset.id, size=size, method=attempt.method)
    return asset


async def receive_multipart(
    infra: Infra,
    *,
    project_id: str,
    body: AsyncIterator[bytes],
    content_type: str,
    declared: int | None,
    client: UploadClient,
) -> Asset:
    """Stream the first file part of a multipart body into storage and register it."""
    asset_id = new_id()
    key = layout.source_key(asset_id)
    attempt = Attempt(infra, client, "multipart", project_id)
    allowed = await check_target(infra, project_id, None)
    if declared is not None and declared > allowed.limit + MULTIPART_OVERHEAD:
        raise allowed.error()
    stream = MultipartStream(body, content_type, allowed.limit + MULTIPART_OVERHEAD)
    stored = False
    try:
        part = await stream.next_file()
        if part is None:
            raise BadRequest("the form has no file part (send it as 'file')")
        attempt.filename = part.filename
        session_id = parse_id(stream.fields.get("session_id"), "session_id")
        if session_id:
            await check_target(infra, project_id, session_id)
        # Form fields before the file part describe the video (title, metadata ...).
        description = library.parse_description(dict(stream.fields))
        size = await infra.storage.put_stream(key, allowed.cap(stream.file_chunks()))
        stored = True
        attempt.received = size
        if size == 0:
            raise BadRequest("the uploaded file is empty")
        return await register_stored(
            infra,
            attempt,
            asset_id=asset_id,
            source=AssetSource.upload,
            size=size,
            content_type=part.content_type,
            session_id=session_id,
            description=description,
        )
    except BaseException as exc:
        attempt.received = attempt.received or stream.received_bytes
        await discard_and_log(infra, attempt, key if stored else None, exc)


async def discard_and_log(
    infra: Infra, attempt: Attempt, key: str | None, exc: BaseException
) -> NoReturn:
    """Remove a stored object that must not stay, log the failure, raise the error as
    the client should see it."""
    err = translate_storage_error(exc)
    # Shielded: a cancelled request must still clean up and leave its log line.
    with anyio.CancelScope(shield=True):
        if key is not None:
            try:
                await infra.storage.delete(key)
            except Exception:
                log.warning("upload.cleanup_failed", key=key, exc_info=True)
        await attempt.failed(err)
    if err is not exc:
        raise err from exc
    raise exc
