"""`/stream/` as a bare ASGI app in front of FastAPI: playback is where the traffic is,
so its requests skip routing, dependency injection and the HTTP middleware stack.

Local files go out with the ASGI `http.response.pathsend` extension when the server
offers it (Granian does: the file is sent from Rust, Python never touches its bytes),
ranges of them by pread in a thread; remote objects as their chunks arrive."""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from streamcore.errors import NotFound
from streamcore.stream import http
from streamcore.stream.http import Reply
from streamcore.stream.service import Playback, error_reply

PREFIX = "/stream/"
ROUTE = "/stream/{token}"
READ_BYTES = 256 * 1024
# Request headers the stream answer looks at.
WANTED = frozenset({b"range", b"if-none-match", b"if-range", b"user-agent", b"x-request-id"})


class StreamFastPath:
    """Serves /stream/* itself and passes everything else (and lifespan) to app."""

    def __init__(self, app: ASGIApp, playback: Any) -> None:
        self.app = app
        # A callable giving the Playback of the running app (built in its lifespan).
        self.playback = playback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        playback: Playback = self.playback()
        headers = {k.decode(): v.decode("latin-1") for k, v in scope["headers"] if k in WANTED}
        method = scope["method"]
        name = scope["path"][len(PREFIX) :]
        kind = "unknown"
        if method == "OPTIONS":
            reply = Reply(204, dict(http.PREFLIGHT_HEADERS))
        elif method not in ("GET", "HEAD"):
            reply = Reply(405, {"allow": "GET, HEAD, OPTIONS", "content-length": "0"})
        elif not name or "/" in name:
            reply = error_reply(NotFound("no such file in this stream"))
        else:
            client = scope.get("client")
            kind, reply = await playback.answer(name, headers, client[0] if client else None)
        request_id = headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
        await _send(scope, send, reply, head=method == "HEAD", request_id=request_id)
        metrics = playback.infra.metrics
        metrics.stream_requests.labels(kind, str(reply.status)).inc()
        metrics.http_requests.labels(ROUTE, method, str(reply.status)).inc()
        metrics.http_duration.labels(ROUTE, method).observe(time.perf_counter() - started)
        if reply.path is not None or reply.chunks is not None:
            metrics.stream_bytes.inc(int(reply.headers.get("content-length", 0)))


async def _send(scope: Scope, send: Send, reply: Reply, *, head: bool, request_id: str) -> None:
    merged = {**http.CORS_HEADERS, **reply.headers}
    headers = [(k.encode(), v.encode("latin-1")) for k, v in merged.items()]
    headers.append((b"x-request-id", request_id.encode("latin-1")))
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    if head or reply.status in (204, 304):
        if reply.chunks is not None:
            await reply.chunks.aclose()  # type: ignore[attr-defined]
        await send({"type": "http.response.body", "body": b""})
        return
    if reply.path is not None:
        await _send_file(scope, send, reply)
        return
    if reply.chunks is not None:
        async for chunk in reply.chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": reply.body})


async def _send_file(scope: Scope, send: Send, reply: Reply) -> None:
    assert reply.path is not None
    if reply.status == 200 and "http.response.pathsend" in scope.get("extensions", {}):
        await send({"type": "http.response.pathsend", "path": str(reply.path)})
        return
    start, end = reply.start, reply.end
    if end is None:  # an empty file
        await send({"type": "http.response.body", "body": b""})
        return
    fd = os.open(reply.path, os.O_RDONLY)
    try:
        offset = start
        while offset <= end:
            n = min(READ_BYTES, end + 1 - offset)
            chunk = await anyio.to_thread.run_sync(os.pread, fd, n, offset)
            if not chunk:
                break
            offset += len(chunk)
            more = offset <= end
            await send({"type": "http.response.body", "body": chunk, "more_body": more})
        if offset <= end:  # the file shrank under us
            await send({"type": "http.response.body", "body": b""})
    finally:
        os.close(fd)
