from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response, StreamingResponse

from streamcore.deps import InfraDep
from streamcore.errors import Forbidden, NotFound, error_responses
from streamcore.stream import service

router = APIRouter(tags=["stream"])


@router.get(
    "/stream/{token}",
    name="stream",
    responses=error_responses(Forbidden, NotFound),
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
    return StreamingResponse(
        infra.storage.iter_range(item.key), media_type=item.content_type, headers=headers
    )
