"""Request helpers shared by the upload routes."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from starlette.requests import ClientDisconnect

from streamcore.uploads import service
from streamcore.uploads.errors import ClientGone


def client_of(request: Request, principal: str) -> service.UploadClient:
    return service.UploadClient(
        principal=principal,
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


async def body_of(request: Request) -> AsyncIterator[bytes]:
    """The request body as it arrives; a client that goes away is ClientGone."""
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except ClientDisconnect as exc:
        raise ClientGone() from exc
