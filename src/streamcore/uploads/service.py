"""Receiving uploads: stream the bytes to storage first, then write the asset and its
ingest job in one transaction, so no asset ever points at an incomplete object."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.adapters.storage.base import StorageUnavailable
from streamcore.db.base import new_id
from streamcore.errors import AppError, BadRequest, NotFound, ServiceUnavailable
from streamcore.infra import Infra
from streamcore.models import Asset, AssetSource, AssetStatus, JobKind, UploadLog
from streamcore.processing import service as processing
from streamcore.projects import service as projects
from streamcore.sessions import service as sessions
from streamcore.uploads.multipart import MultipartStream
from streamcore.uploads.repository import UploadLogRepository
from streamcore.videos import service as videos

log = structlog.get_logger(__name__)


@dataclass
class UploadClient:
    principal: str
    ip: str | None
    user_agent: str | None


async def check_session(session: AsyncSession, project_id: str, session_id: str) -> None:
    rec = await sessions.get_session(session, session_id)
    if rec.project_id != project_id:
        raise NotFound("session not found")


async def receive_multipart(
    infra: Infra,
    *,
    project_id: str,
    body: AsyncIterator[bytes],
    content_type: str,
    client: UploadClient,
) -> Asset:
    """Stream the first file part of a multipart body into storage and register it."""
    started = time.monotonic()
    asset_id = new_id()
    key = videos.source_key(asset_id)
    # Check the target before taking the bytes, in a transaction of its own: none is
    # held open while the body streams in.
    async with infra.transaction() as session:
        await projects.get_project(session, project_id)
    stream = MultipartStream(body, content_type, infra.settings.upload.max_bytes)
    filename = ""
    stored = False
    try:
        part = await stream.next_file()
        if part is None:
            raise BadRequest("the form has no file part (send it as 'file')")
        filename = part.filename
        session_id = stream.fields.get("session_id") or None
        if session_id:
            async with infra.transaction() as session:
                await check_session(session, project_id, session_id)
        size = await infra.storage.put_stream(key, stream.file_chunks())
        stored = True
        if size == 0:
            raise BadRequest("the uploaded file is empty")
        async with infra.transaction() as session:
            asset = await videos.create_asset(
                session,
                asset_id=asset_id,
                project_id=project_id,
                session_id=session_id,
                source=AssetSource.upload,
                status=AssetStatus.uploaded,
                filename=part.filename,
                content_type=part.content_type,
                size_bytes=size,
            )
            await processing.enqueue(
                session, asset.id, JobKind.ingest, max_attempts=infra.settings.worker.max_attempts
            )
            await _log(session, client, project_id, asset.id, filename, size, started, "ok", None)
    except BaseException as exc:
        if stored:
            await infra.storage.delete(key)
        err = exc
        if isinstance(exc, StorageUnavailable):
            err = ServiceUnavailable("object storage is unavailable")
        await _log_failure(infra, client, project_id, filename, stream, started, err)
        if err is not exc:
            raise err from exc
        raise
    infra.metrics.upload_bytes.labels("multipart").inc(size)
    infra.metrics.uploads.labels("multipart", "ok").inc()
    log.info("upload.stored", asset_id=asset.id, size=size)
    return asset


async def _log(
    session: AsyncSession,
    client: UploadClient,
    project_id: str,
    asset_id: str | None,
    filename: str,
    size: int | None,
    started: float,
    result: str,
    detail: str | None,
) -> None:
    await UploadLogRepository(session).add(
        UploadLog(
            project_id=project_id,
            asset_id=asset_id,
            principal=client.principal,
            method="multipart",
            filename=filename[:255],
            size_bytes=size,
            duration_seconds=time.monotonic() - started,
            result=result,
            detail=detail,
            client_ip=client.ip,
            user_agent=(client.user_agent or "")[:512] or None,
        )
    )


async def _log_failure(
    infra: Infra,
    client: UploadClient,
    project_id: str,
    filename: str,
    stream: MultipartStream,
    started: float,
    exc: BaseException,
) -> None:
    result = type(exc).__name__ if isinstance(exc, AppError) else "error"
    infra.metrics.uploads.labels("multipart", result).inc()
    try:
        async with infra.transaction() as session:
            await _log(
                session,
                client,
                project_id,
                None,
                filename,
                stream.received_bytes,
                started,
                result,
                str(exc)[:1000] or type(exc).__name__,
            )
    except Exception:
        log.warning("upload.log_failed", exc_info=True)
