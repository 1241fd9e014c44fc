"""The `/stream/{token}` route as the OpenAPI document shows it. `streamcore serve`
answers these requests in stream/asgi.py before FastAPI sees them; this route gives the
same answers (the same Playback.answer) to an app used without that front, e.g.
in-process tests."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from streamcore.errors import Forbidden, NotFound, error_responses
from streamcore.stream import http
from streamcore.stream.service import Playback

router = APIRouter(tags=["stream"])


RESPONSES: dict[int | str, dict[str, Any]] = {
    206: {"description": "the requested byte range of a segment"},
    302: {"description": "redirect to a presigned GET (remote_delivery=redirect)"},
    304: {"description": "If-None-Match matched the segment's ETag"},
    416: {"description": "the byte range is outside the segment"},
    **error_responses(Forbidden, NotFound),
}


@router.head(
    "/stream/{token}", name="stream_head", operation_id="stream_head",
    responses=RESPONSES, response_class=Response,
)  # fmt: skip
@router.get(
    "/stream/{token}", name="stream", operation_id="stream",
    responses=RESPONSES, response_class=Response,
)  # fmt: skip
async def stream(token: str, request: Request) -> Response:
    """HLS playlists and segments behind an encrypted, expiring token. Segments carry
    an ETag (If-None-Match gives 304) and honour Range (206/416); HEAD and CORS work
    for players on any origin."""
    playback: Playback = request.app.state.playback
    headers = {k.lower(): v for k, v in request.headers.items()}
    client = request.client.host if request.client else None
    _, reply = await playback.answer(token, headers, client)
    out = {**http.CORS_HEADERS, **reply.headers}
    if request.method == "HEAD" or reply.status in (304, 204):
        return Response(status_code=reply.status, headers=out)
    if reply.chunks is not None:
        return StreamingResponse(reply.chunks, status_code=reply.status, headers=out)
    body = reply.body
    if reply.path is not None and reply.end is not None:
        async with await anyio.open_file(reply.path, "rb") as f:
            await f.seek(reply.start)
            body = await f.read(reply.end - reply.start + 1)
    return Response(body, status_code=reply.status, headers=out)
