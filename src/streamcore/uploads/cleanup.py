"""Abandoned uploads: a tus or presigned upload left open past its expiry (plus a
grace period), or a session recording take not completed within a day, has its bytes
deleted and its video failed with `UploadExpired`, so storage does not fill with
parts nobody will finish."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from streamcore.db.base import utcnow
from streamcore.infra import Infra
from streamcore.models import AssetSource, AssetStatus, UploadMethod, UploadState
from streamcore.uploads.repository import UploadRepository
from streamcore.videos import layout, lifecycle
from streamcore.videos import service as videos

log = structlog.get_logger(__name__)

BATCH = 100
ERROR_CLASS = "UploadExpired"


@dataclass
class _Leftovers:
    keys: list[str] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    multiparts: list[tuple[str, str]] = field(default_factory=list)


async def sweep_abandoned(infra: Infra) -> int:
    """One pass; returns how many uploads were given up."""
    settings = infra.settings.upload
    now = utcnow()
    left = _Leftovers()
    async with infra.transaction() as session:
        uploads = await UploadRepository(session).expired_open(
            now - timedelta(seconds=settings.abandoned_grace_seconds), BATCH
        )
        for upload in uploads:
            left.keys += [*upload.chunk_keys, upload.key]
            if upload.method is UploadMethod.multipart and upload.storage_upload_id:
                left.multiparts.append((upload.key, upload.storage_upload_id))
            upload.state = UploadState.aborted
            upload.chunk_keys = []
            asset = await videos.get_asset(session, upload.asset_id, for_update=True)
            if asset.status is AssetStatus.awaiting_upload:
                await lifecycle.fail(
                    session, asset, ERROR_CLASS, "the upload was not finished in time"
                )
        takes = await videos.stale_awaiting(
            session,
            AssetSource.recording,
            now - timedelta(seconds=settings.recording_idle_seconds),
            BATCH,
        )
        for take in takes:
            left.prefixes.append(layout.chunks_prefix(take.id))
            await lifecycle.fail(
                session, take, ERROR_CLASS, "the recording was not completed in time"
            )
    await _delete(infra, left)
    given_up = len(uploads) + len(takes)
    if given_up:
        log.info("uploads.abandoned_swept", uploads=len(uploads), recordings=len(takes))
    return given_up


async def _delete(infra: Infra, left: _Leftovers) -> None:
    """Best effort: a failure leaves bytes for the operator, never an upload half-open."""
    storage = infra.storage
    for key, upload_id in left.multiparts:
        try:
            await storage.abort_multipart(key, upload_id)
        except Exception as exc:
            log.warning("uploads.abort_failed", key=key, error=str(exc)[:300])
    for key in left.keys:
        try:
            await storage.delete(key)
        except Exception as exc:
            log.warning("uploads.delete_failed", key=key, error=str(exc)[:300])
    for prefix in left.prefixes:
        try:
            await storage.delete_prefix(prefix)
        except Exception as exc:
            log.warning("uploads.delete_failed", key=prefix, error=str(exc)[:300])


# Where tus keeps the chunks of an upload until its last PATCH (uploads/tus.py).
TUS_CHUNKS = "uploads/tus"
PAGE = 1000


async def abort_for_asset(infra: Infra, asset_id: str) -> int:
    """Every upload of a deleted video: the open ones closed first (a tus PATCH still
    streaming then fails its compare-and-set and drops its chunk), then the parts of
    unfinished multipart uploads aborted and the tus chunks deleted. Errors propagate
    (the purge retries; every step can run again)."""
    async with infra.transaction() as session:
        uploads = await UploadRepository(session).of_asset(asset_id, for_update=True)
        for upload in uploads:
            if upload.state is UploadState.open:
                upload.state = UploadState.aborted
                upload.chunk_keys = []
        pending = [(u.id, u.method, u.key, u.storage_upload_id) for u in uploads]
    for upload_id, method, key, storage_upload_id in pending:
        if method is UploadMethod.multipart and storage_upload_id:
            await infra.storage.abort_multipart(key, storage_upload_id)
        if method is UploadMethod.tus:
            while await infra.storage.delete_page(f"{TUS_CHUNKS}/{upload_id}", PAGE):
                pass
    return len(pending)
