"""A bound on how long a request body may stall: a client that stops sending in the
middle of a body (or never sends the body it announced) holds a request, a task and,
for an upload, an open storage write. After `timeout` seconds without the next chunk
the request is treated as the client gone (`http.disconnect`): an upload keeps what
arrived, exactly as when the connection drops, and the task ends.

Only the body is bounded. Once its last chunk is in, `receive` is passed through, so a
long response that listens for a disconnect is never cut."""

from __future__ import annotations

import asyncio

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger(__name__)


class BodyTimeoutMiddleware:
    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_done = False
        timeout = self.timeout

        async def bounded_receive() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), timeout)
            except TimeoutError:
                body_done = True
                log.info("http.body_timeout", path=scope.get("path"), seconds=timeout)
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        await self.app(scope, bounded_receive, send)
