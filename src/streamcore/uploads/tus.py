"""Resumable uploads, tus 1.0 (core, creation, termination, checksum, expiration).

State lives in the `uploads` table, bytes in object storage: each PATCH body becomes
one chunk object, and the offset moves by compare-and-set, so no lock is held while
bytes stream in and any API node can take the next PATCH. When a client drops
mid-PATCH, the bytes that did arrive are kept (unless a checksum was promised), so a
resumed upload continues where the connection broke. The last PATCH joins the chunks
under the asset's source key and writes `uploaded` + the ingest job together."""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.db.base import new_id
from streamcore.errors import BadRequest, Conflict, NotFound, PayloadTooLarge
from streamcore.infra import Infra
from streamcore.inputs import decode_utf8
from streamcore.models import AssetSource, Upload, UploadMethod, UploadState
from streamcore.projects import service as projects
from streamcore.uploads.errors import ChecksumMismatch, ClientGone, Gone
from streamcore.uploads.limits import allowance
from streamcore.uploads.repository import UploadRepository
from streamcore.uploads.service import (
    Attempt,
    UploadClient,
    check_session,
    discard_and_log,
    mark_uploaded,
    translate_storage_error,
)
from streamcore.videos import library, lifecycle
from streamcore.videos import service as videos

log = structlog.get_logger(__name__)

VERSION = "1.0.0"
EXTENSIONS = "creation,termination,checksum,expiration"
MAX_METADATA_KEYS = 32
CHECKSUMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "md5": hashlib.md5}


def parse_metadata(header: str | None) -> dict[str, str]:
    """Upload-Metadata: `key base64value,key2 base64value2` (a value may be absent)."""
    out: dict[str, str] = {}
    for pair in (header or "").split(","):
        if not pair.strip():
            continue
        key, _, value = pair.strip().partition(" ")
        if len(out) >= MAX_METADATA_KEYS or len(key) > 64:
            raise BadRequest("Upload-Metadata has too many or too long keys")
        try:
            raw = base64.b64decode(value.strip(), validate=True)
        except binascii.Error as exc:
            raise BadRequest(f"Upload-Metadata value of {key!r} is not base64") from exc
        out[key] = decode_utf8(raw, f"Upload-Metadata value of {key!r}")
    return out


@dataclass(frozen=True)
class Checksum:
    algorithm: str
    digest: bytes


def parse_checksum(header: str | None) -> Checksum | None:
    if not header:
        return None
    algorithm, _, value = header.strip().partition(" ")
    if algorithm.lower() not in CHECKSUMS:
        raise BadRequest(f"unsupported checksum algorithm {algorithm!r}")
    try:
        return Checksum(algorithm.lower(), base64.b64decode(value.strip(), validate=True))
    except binascii.Error as exc:
        raise BadRequest("Upload-Checksum is not base64") from exc


def _expired(upload: Upload) -> bool:
    return upload.state is UploadState.open and upload.expires_at < datetime.now(UTC)


async def create(
    infra: Infra, session: AsyncSession, *, length: int, meta: dict[str, str], principal: str
) -> Upload:
    """A new tus upload and its asset (awaiting_upload). meta carries project_id, and
    optionally session_id, filename and filetype."""
    if length <= 0:
        raise BadRequest("Upload-Length must be positive")
    project_id = meta["project_id"]
    session_id = meta.get("session_id") or None
    await projects.get_project(session, project_id)
    if session_id:
        await check_session(session, project_id, session_id)
    await allowance(infra, session, project_id, length)
    asset = await videos.create_asset(
        session,
        project_id=project_id,
        session_id=session_id,
        source=AssetSource.upload,
        filename=meta.get("filename") or meta.get("name") or "",
        content_type=meta.get("filetype") or meta.get("content_type") or "",
        size_bytes=length,
        description=library.parse_description(meta),
    )
    ttl = infra.settings.upload.tus_expiry_seconds
    upload = Upload(
        id=new_id(),
        asset_id=asset.id,
        project_id=project_id,
        method=UploadMethod.tus,
        state=UploadState.open,
        key=asset.source_key,
        size_bytes=length,
        offset_bytes=0,
        chunk_keys=[],
        meta=dict(meta),
        principal=principal[:128],
        expires_at=datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=ttl),
    )
    await UploadRepository(session).add(upload)
    return upload


async def project_of(session: AsyncSession, upload_id: str) -> str:
    """The upload's project, for the access check that comes before anything else is
    said about it (that it expired, for one)."""
    upload = await UploadRepository(session).get(upload_id)
    if upload is None or upload.method is not UploadMethod.tus:
        raise NotFound("no such upload")
    return upload.project_id


async def get(session: AsyncSession, upload_id: str, *, for_update: bool = False) -> Upload:
    upload = await UploadRepository(session).get(upload_id, for_update=for_update)
    if upload is None or upload.method is not UploadMethod.tus:
        raise NotFound("no such upload")
    if upload.state is UploadState.aborted or _expired(upload):
        raise Gone()
    return upload


@dataclass
class _Received:
    size: int = 0
    disconnected: bool = False


async def patch(
    infra: Infra,
    upload_id: str,
    *,
    offset: int,
    body: AsyncIterator[bytes],
    checksum: Checksum | None,
    client: UploadClient,
) -> Upload:
    """Append one PATCH body at offset; the last one completes the upload."""
    async with infra.transaction() as session:
        upload = await get(session, upload_id)
    attempt = Attempt(infra, client, "tus", upload.project_id, upload.asset_id)
    attempt.filename = str(upload.meta.get("filename", ""))
    if upload.state is UploadState.completed:
        raise Conflict("this upload is already complete")
    if offset != upload.offset_bytes:
        raise Conflict(f"Upload-Offset {offset} does not match the upload's {upload.offset_bytes}")
    if offset == upload.size_bytes:
        # Every byte is in, but joining failed before (storage was down): try again.
        return await _finish(infra, upload.id, attempt)
    chunk_key = f"uploads/tus/{upload.id}/{offset:015d}-{uuid.uuid4().hex[:8]}"
    got = _Received()
    hasher = hashlib.new(checksum.algorithm) if checksum else None
    remaining = upload.size_bytes - offset

    async def chunks() -> AsyncIterator[bytes]:
        try:
            async for chunk in body:
                got.size += len(chunk)
                if got.size > remaining:
                    raise PayloadTooLarge("the body goes past Upload-Length")
                if hasher is not None:
                    hasher.update(chunk)
                yield chunk
        except ClientGone:
            # Keep what arrived: the client resumes from the new offset.
            got.disconnected = True

    stored = False
    try:
        size = await infra.storage.put_stream(chunk_key, chunks())
        stored = True
        attempt.received = size
        if checksum is not None and (
            got.disconnected or hasher is None or hasher.digest() != checksum.digest
        ):
            raise ClientGone() if got.disconnected else ChecksumMismatch()
        if size:
            async with infra.transaction() as session:
                moved = await UploadRepository(session).advance(
                    upload.id, offset, offset + size, [*upload.chunk_keys, chunk_key]
                )
            if not moved:
                raise Conflict("another request moved this upload's offset")
        else:
            await infra.storage.delete(chunk_key)
        if got.disconnected:
            stored = False  # the bytes count: keep them
            raise ClientGone()
    except BaseException as exc:
        await discard_and_log(infra, attempt, chunk_key if stored else None, exc)
    upload.offset_bytes = offset + size
    if upload.offset_bytes == upload.size_bytes:
        return await _finish(infra, upload.id, attempt)
    return upload


async def _finish(infra: Infra, upload_id: str, attempt: Attempt) -> Upload:
    async with infra.transaction() as session:
        upload = await get(session, upload_id)
    try:
        size = await infra.storage.compose(upload.key, list(upload.chunk_keys))
        attempt.received = size
        async with infra.transaction() as session:
            upload = await get(session, upload_id, for_update=True)
            asset = await videos.get_asset(session, upload.asset_id, for_update=True)
            upload.state = UploadState.completed
            upload.chunk_keys = []
            await mark_uploaded(infra, session, asset, size)
            await attempt.succeeded(session, size)
    except BaseException as exc:
        await discard_and_log(infra, attempt, None, exc)
    log.info("upload.tus_completed", asset_id=upload.asset_id, size=size)
    return upload


async def terminate(infra: Infra, upload_id: str, client: UploadClient) -> None:
    """Drop the upload's bytes; its asset ends `cancelled`."""
    async with infra.transaction() as session:
        upload = await get(session, upload_id, for_update=True)
        if upload.state is UploadState.completed:
            raise Conflict("a completed upload cannot be terminated")
        keys = list(upload.chunk_keys)
        upload.state = UploadState.aborted
        upload.chunk_keys = []
        asset = await videos.get_asset(session, upload.asset_id, for_update=True)
        await lifecycle.cancel(session, asset)
        attempt = Attempt(infra, client, "tus", upload.project_id, upload.asset_id)
        await attempt.succeeded(session, upload.offset_bytes, result="terminated")
    with anyio.CancelScope(shield=True):
        for key in keys:
            try:
                await infra.storage.delete(key)
            except Exception as exc:
                log.warning("upload.tus_cleanup_failed", key=key, error=str(exc))
                raise translate_storage_error(exc) from exc


def headers_of(upload: Upload) -> dict[str, Any]:
    return {
        "Tus-Resumable": VERSION,
        "Upload-Offset": str(upload.offset_bytes),
        "Upload-Length": str(upload.size_bytes),
        "Upload-Expires": upload.expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "Cache-Control": "no-store",
        "X-Asset-Id": upload.asset_id,
    }
