"""create_app(settings): the ASGI application. The lifespan builds Infra once, migrates
an empty database, runs the outbox relay in Kafka mode and, unless told not to, the
worker in the same process."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import socketio
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Scope

from streamcore import __version__, openapi
from streamcore.admin.endpoints import router as admin_router
from streamcore.analytics.asgi import BeaconFastPath
from streamcore.analytics.endpoints import router as analytics_router
from streamcore.analytics.ingest import BeaconIngest
from streamcore.auth.endpoints import keys_router as api_keys_router
from streamcore.auth.endpoints import router as auth_router
from streamcore.config import Settings
from streamcore.db.migrate import ensure_schema
from streamcore.db.session import is_sqlite
from streamcore.errors import AppError, Forbidden, TooManyRequests, Unauthorized, error_responses
from streamcore.infra import Infra, build_infra
from streamcore.inputs.body_timeout import BodyTimeoutMiddleware
from streamcore.inputs.proxies import ClientAddressMiddleware
from streamcore.observability.endpoints import router as ops_router
from streamcore.observability.health import wait_until_ready
from streamcore.observability.logging import configure_logging
from streamcore.organizations.endpoints import received_router as invitations_router
from streamcore.organizations.endpoints import router as organizations_router
from streamcore.projects.endpoints import router as projects_router
from streamcore.reprocess.endpoints import router as reprocess_router
from streamcore.sessions.endpoints import router as sessions_router
from streamcore.signaling.server import Signaling
from streamcore.stream.asgi import StreamFastPath
from streamcore.stream.endpoints import router as stream_router
from streamcore.stream.service import Playback
from streamcore.transcripts.endpoints import router as transcripts_router
from streamcore.uploads.endpoints import router as uploads_router
from streamcore.videos.endpoints import events_router
from streamcore.videos.endpoints import router as videos_router
from streamcore.web.endpoints import mount as mount_web
from streamcore.webhooks.endpoints import router as webhooks_router
from streamcore.worker import run_job_services

log = structlog.get_logger(__name__)

# Browser tus clients (tus-js-client, Uppy) send and read these.
TUS_REQUEST_HEADERS = [
    "Tus-Resumable", "Upload-Length", "Upload-Offset", "Upload-Metadata", "Upload-Checksum",
]  # fmt: skip
TUS_RESPONSE_HEADERS = [
    "Location", "Tus-Resumable", "Tus-Version", "Tus-Extension", "Tus-Max-Size",
    "Upload-Offset", "Upload-Length", "Upload-Expires", "X-Asset-Id",
]  # fmt: skip

STATUS_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    429: "TooManyRequests",
}


DRAIN_BYTES = 1024 * 1024
DRAIN_SECONDS = 2.0


async def _drain(request: Request) -> None:
    """Read (and drop) what is left of a refused body, up to a bound, before answering:
    a server that answers and closes while the client still sends makes most clients
    see a reset instead of the 413. A body already read, or a larger one, is left."""
    got = 0
    with contextlib.suppress(Exception):
        async with asyncio.timeout(DRAIN_SECONDS):
            async for chunk in request.stream():
                got += len(chunk)
                if got > DRAIN_BYTES:
                    break


def _sqlstate(exc: DBAPIError) -> str:
    """The SQLSTATE of a database error, where the driver tells it."""
    for err in (exc.orig, getattr(exc.orig, "__cause__", None)):
        state = getattr(err, "sqlstate", None) or getattr(err, "pgcode", None)
        if isinstance(state, str):
            return state
    return ""


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """Every method some route of this path answers (Starlette's 405 names only the
    first route's), as the OpenAPI document lists them: HEAD only where declared."""
    methods: set[str] = set()
    for route in app.router.routes:
        declared = getattr(route, "methods", None)
        if declared and route.matches(scope)[0] is not Match.NONE:
            methods |= set(declared) - {"HEAD"} if "GET" in declared else set(declared)
    return sorted(methods)


def _request_id(header: str | None) -> str:
    """The caller's X-Request-ID when it is a plain token, else a new one (a request id
    ends up in logs and response headers: no control characters, bounded length)."""
    if header and len(header) <= 64 and header.isascii() and header.isprintable():
        return header
    return uuid.uuid4().hex


def create_app(
    settings: Settings | None = None,
    *,
    infra: Infra | None = None,
    run_worker: bool = True,
) -> FastAPI:
    settings = settings or (infra.settings if infra else Settings())
    configure_logging(settings.log_level, json=settings.log_json)
    signaling = Signaling(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = infra is None
        current = infra or build_infra(settings)
        app.state.infra = current
        await wait_until_ready(current)
        await ensure_schema(current.engine, auto_migrate=settings.database.auto_migrate)
        await signaling.start(current)
        app.state.playback = playback = Playback(current)
        await playback.start()
        app.state.analytics = beacons = BeaconIngest(current)
        beacons.start()
        stop = asyncio.Event()
        worker_task = asyncio.create_task(
            run_job_services(current, stop, consume=run_worker), name="job-services"
        )
        log.info(
            "app.started",
            database="sqlite" if is_sqlite(settings.database_url) else "postgresql",
            storage=current.storage.name,
            bus=current.bus.name,
            worker=run_worker,
        )
        try:
            yield
        finally:
            stop.set()
            worker_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker_task
            await playback.stop()
            await beacons.stop()
            if own:
                await current.close()

    app = FastAPI(
        title="streamcore",
        version=__version__,
        description="Self-hostable video platform backend: upload, transcode to adaptive "
        "HLS, stream through encrypted expiring URLs.",
        lifespan=lifespan,
        # /docs is web.docs's, from local assets (FastAPI's loads Swagger UI from a CDN).
        docs_url=None,
        redoc_url=None,
    )
    app.state.signaling = signaling
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Range", "Authorization", "Content-Type", *TUS_REQUEST_HEADERS],
        expose_headers=["Content-Length", "Content-Range", *TUS_RESPONSE_HEADERS],
    )

    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = _request_id(request.headers.get("x-request-id"))
        request.state.request_id = request_id
        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            response = await call_next(request)
            route = request.scope.get("route")
            template = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - started
            infra_: Infra | None = getattr(request.app.state, "infra", None)
            if infra_ is not None:
                infra_.metrics.http_requests.labels(
                    template, request.method, str(response.status_code)
                ).inc()
                infra_.metrics.http_duration.labels(template, request.method).observe(elapsed)
            response.headers["X-Request-ID"] = request_id
            if template != "/stream/{token}":
                log.info(
                    "http.request",
                    method=request.method,
                    route=template,
                    client=request.client.host if request.client else None,
                    status=response.status_code,
                    ms=round(elapsed * 1000, 1),
                )
            return response

    # Outermost: everything after it (logs, rate limits, upload logs) sees the client
    # address the trusted proxies vouch for, or the peer's own.
    app.add_middleware(ClientAddressMiddleware, trusted=settings.http.trusted_networks)
    app.add_middleware(BodyTimeoutMiddleware, timeout=settings.http.body_read_timeout_seconds)

    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> JSONResponse:
        if exc.status_code == 413:
            await _drain(request)
        return JSONResponse(
            {"error": exc.name, "detail": exc.detail},
            status_code=exc.status_code,
            headers=exc.headers or None,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        return JSONResponse(
            {"error": "ValidationError", "detail": "invalid request", "errors": errors},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        name = STATUS_NAMES.get(exc.status_code, "HTTPError")
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request.app, request.scope))
        return JSONResponse(
            {"error": name, "detail": str(exc.detail)}, status_code=exc.status_code, headers=headers
        )

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        # SQLSTATE class 22 (data exception): the database refused a value the schema
        # allows, e.g. a NUL character in text, which PostgreSQL cannot store. The
        # request is at fault and nothing of it was stored. Anything else is ours.
        if not _sqlstate(exc).startswith("22"):
            return await unexpected(request, exc)
        log.info("http.unstorable_value", error=str(exc.orig)[:300])
        return JSONResponse(
            {"error": "BadRequest", "detail": "a value cannot be stored (NUL characters in text?)"},
            status_code=400,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The trace goes to the log under the request id; the client gets only the id.
        request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
        log.exception("http.unhandled", error_class=type(exc).__name__, request_id=request_id)
        return JSONResponse(
            {"error": "InternalError", "detail": f"internal error (request id {request_id})"},
            status_code=500,
            headers={"X-Request-ID": request_id},
        )

    # Every route but these public ones sits behind auth.dependencies.get_principal.
    protected = error_responses(Unauthorized, Forbidden, TooManyRequests)
    app.include_router(ops_router)
    app.include_router(stream_router)
    # Early: routes are matched in order, and beacons are the busiest API route.
    app.include_router(analytics_router)
    app.include_router(auth_router)
    app.include_router(organizations_router)
    app.include_router(invitations_router)
    app.include_router(projects_router)
    app.include_router(api_keys_router)
    app.include_router(sessions_router, responses=protected)
    app.include_router(videos_router, responses=protected)
    app.include_router(uploads_router, responses=protected)
    app.include_router(reprocess_router)
    app.include_router(admin_router)
    app.include_router(transcripts_router, responses=protected)
    app.include_router(webhooks_router, responses=protected)
    app.webhooks.include_router(events_router)
    mount_web(app)
    openapi.install(app)
    return app


def asgi_app(app: FastAPI) -> ASGIApp:
    """The app as served: Socket.IO on /socket.io/ and playback on /stream/ in front of
    the HTTP API (one port), and player beacons on /analytics/events."""
    signaling: Signaling = app.state.signaling
    fast = StreamFastPath(app, lambda: app.state.playback)
    beacons = BeaconFastPath(fast, lambda: app.state.analytics)
    wrapped: ASGIApp = socketio.ASGIApp(signaling.sio, other_asgi_app=beacons)
    return wrapped
