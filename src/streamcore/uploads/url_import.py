"""Import from a URL: fetched through adapters.fetch (public addresses only, checked on
every redirect), streamed to storage within the size and time limits, then registered
like any other upload."""

from __future__ import annotations

import anyio
import structlog

from streamcore.adapters.fetch import (
    FetchFailed,
    FetchPolicy,
    FetchRefused,
    FetchTooLarge,
    open_url,
    parse_networks,
)
from streamcore.db.base import new_id
from streamcore.errors import BadRequest, PayloadTooLarge
from streamcore.infra import Infra
from streamcore.models import Asset, AssetSource
from streamcore.uploads.schemas import UrlImportCreate
from streamcore.uploads.service import Attempt, UploadClient, check_target, discard_and_log
from streamcore.uploads.service import register_stored as register
from streamcore.videos import layout

log = structlog.get_logger(__name__)


def policy_of(infra: Infra, max_bytes: int) -> FetchPolicy:
    settings = infra.settings.upload
    return FetchPolicy(
        max_bytes=max_bytes,
        max_redirects=settings.url_import_max_redirects,
        connect_timeout=settings.url_import_connect_timeout_seconds,
        read_timeout=min(60.0, settings.url_import_timeout_seconds),
        allow=parse_networks(settings.url_import_allow_private_networks),
    )


def client_error(exc: BaseException) -> BaseException:
    if isinstance(exc, FetchRefused):
        return BadRequest(f"URL refused: {exc}")
    if isinstance(exc, FetchTooLarge):
        return PayloadTooLarge(f"URL refused: {exc}")
    if isinstance(exc, FetchFailed):
        return BadRequest(f"could not fetch the URL: {exc}")
    if isinstance(exc, TimeoutError):
        return BadRequest("could not fetch the URL: it took too long")
    return exc


async def import_url(
    infra: Infra, *, project_id: str, body: UrlImportCreate, client: UploadClient
) -> Asset:
    """Download body.url into storage and register it as an uploaded asset."""
    url = str(body.url)
    attempt = Attempt(infra, client, "url", project_id, filename=body.filename or "")
    allowed = await check_target(infra, project_id, body.session_id)
    asset_id = new_id()
    key = layout.source_key(asset_id)
    stored = False
    try:
        try:
            with anyio.fail_after(infra.settings.upload.url_import_timeout_seconds):
                async with open_url(url, policy_of(infra, allowed.limit)) as fetched:
                    attempt.filename = attempt.filename or fetched.filename
                    content_type = fetched.content_type
                    size = await infra.storage.put_stream(key, allowed.cap(fetched.chunks()))
                    stored = True
        except (FetchFailed, FetchRefused, FetchTooLarge, TimeoutError) as exc:
            raise client_error(exc) from exc
        attempt.received = size
        if size == 0:
            raise BadRequest("the URL returned an empty body")
        asset = await register(
            infra,
            attempt,
            asset_id=asset_id,
            source=AssetSource.url,
            size=size,
            content_type=content_type,
            session_id=body.session_id,
            source_url=url[:2000],
            description=body.video_description(),
        )
    except BaseException as exc:
        await discard_and_log(infra, attempt, key if stored else None, exc)
    log.info("upload.imported", asset_id=asset.id, size=size)
    return asset
