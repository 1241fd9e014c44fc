from __future__ import annotations

import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from streamcore.adapters.storage.base import StorageError
from streamcore.deps import InfraDep
from streamcore.errors import AppError, Forbidden, NotFound, error_responses
from streamcore.infra import Infra
from streamcore.stream import service

router = APIRouter(tags=["stream"])


class RangeNotSatisfiable(AppError):
    status_code = 416
    detail = "the byte range is outside the segment"

    def __init__(self, size: int = 0) -> None:
        super().__init__()
        self.size = size

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Range": f"bytes */{self.size}"}


@router.get(
    "/stream/{token}",
    name="stream",
    responses={
        206: {"description": "the requested byte range of a segment"},
        302: {"description": "redirect to a presigned GET (remote_delivery=redirect)"},
        **error_responses(Forbidden, NotFound, RangeNotSatisfiable),
    },
    response_class=Response,
)
async def stream(token: str, request: Request, infra: InfraDep) -> Response:
    """HLS playlists and segments behind an encrypted, expiring token."""
    try:
        item = await service.open_item(infra, token)
    except (Forbidden, NotFound) as exc:
        infra.metrics.stream_requests.labels("unknown", str(exc.status_code)).inc()
        raise
    max_age = max(0, item.claim.expires_at - int(time.time()))
    infra.metrics.stream_requests.labels(item.kind, "200").inc()
    if item.playlist is not None:
        if item.kind == "master":
            await service.log_view(
                infra,
                item,
                request.client.host if request.client else None,
                request.headers.get("user-agent"),
            )
        return Response(
            item.playlist,
            media_type=item.content_type,
            headers={"Cache-Control": "private, no-cache"},
        )
    headers = {"Cache-Control": f"private, max-age={max_age}"}
    if item.local_path is not None:
        infra.metrics.stream_bytes.inc(item.local_path.stat().st_size)
        return FileResponse(item.local_path, media_type=item.content_type, headers=headers)
    return await _remote(infra, item, request.headers.get("range"), headers, max_age)


async def _remote(
    infra: Infra,
    item: service.StreamItem,
    range_header: str | None,
    headers: dict[str, str],
    max_age: int,
) -> Response:
    """A segment in object storage: a redirect to a short-lived presigned GET when so
    configured, otherwise streamed through here with Range support."""
    settings = infra.settings.stream
    if settings.remote_delivery == "redirect" and infra.storage.presigns:
        ttl = max(1, min(settings.redirect_ttl_seconds, max_age))
        try:
            url = await infra.storage.presign_get(item.key, expires_in=ttl)
        except StorageError as exc:
            raise NotFound("no such file in this stream") from exc
        return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
    size = item.size or 0
    headers = {**headers, "Accept-Ranges": "bytes"}
    try:
        wanted = service.parse_range(range_header, size)
    except ValueError:
        raise RangeNotSatisfiable(size) from None
    start, end = wanted or (0, size - 1)
    status_code = 206 if wanted else 200
    if wanted:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    length = end - start + 1 if size else 0
    headers["Content-Length"] = str(length)
    infra.metrics.stream_bytes.inc(length)
    body = infra.storage.iter_range(item.key, start, end) if length else _empty()
    return StreamingResponse(
        body, status_code=status_code, media_type=item.content_type, headers=headers
    )


async def _empty() -> AsyncIterator[bytes]:
    return
    yield b""
