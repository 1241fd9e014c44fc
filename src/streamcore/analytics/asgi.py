"""`POST /analytics/events` as a bare ASGI app in front of FastAPI (as /stream/ is):
beacons are the busiest API route, so they skip routing, dependency injection and the
HTTP middleware stack. The answers are the FastAPI route's (the same BeaconIngest);
that route stays for the OpenAPI document and for the app used without this front."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from streamcore.analytics.ingest import BeaconIngest
from streamcore.errors import AppError
from streamcore.inputs.proxies import client_address

PATH = "/analytics/events"
CORS = [(b"access-control-allow-origin", b"*"), (b"vary", b"Origin")]


async def _read(receive: Receive, limit: int) -> bytes:
    """The body, or its first limit + 1 bytes (refused as too large)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit or not message.get("more_body", False):
            break
    return b"".join(chunks)


class BeaconFastPath:
    """Serves POST /analytics/events itself; everything else (OPTIONS preflights
    included) goes to app."""

    def __init__(self, app: ASGIApp, intake: Callable[[], BeaconIngest]) -> None:
        self.app = app
        self.intake = intake

    def _client(self, scope: Scope, intake: BeaconIngest) -> str | None:
        peer = scope.get("client")
        host = peer[0] if peer else None
        trusted = intake.infra.settings.http.trusted_networks
        if not trusted:
            return host
        forwarded = [v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"]
        return client_address(host, forwarded, trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        intake = self.intake()
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("token") or [None])[0]
        headers: dict[str, str] = {}
        body: dict[str, int | str]
        try:
            await intake.address_allowed(self._client(scope, intake))
            raw = await _read(receive, intake.infra.settings.analytics.max_body_bytes)
            status, body = 202, {"accepted": await intake.accept(raw, token)}
        except AppError as exc:
            status, body, headers = (
                exc.status_code,
                {"error": exc.name, "detail": exc.detail},
                exc.headers,
            )
        payload = json.dumps(body).encode()
        out = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            (b"x-request-id", uuid.uuid4().hex.encode()),
            *CORS,
            *((k.lower().encode(), v.encode("latin-1")) for k, v in headers.items()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": payload})
        metrics = intake.infra.metrics
        metrics.http_requests.labels(PATH, "POST", str(status)).inc()
        metrics.http_duration.labels(PATH, "POST").observe(time.perf_counter() - started)
