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
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from streamcore import __version__
from streamcore.admin.endpoints import router as admin_router
from streamcore.auth.endpoints import keys_router as api_keys_router
from streamcore.auth.endpoints import router as auth_router
from streamcore.config import Settings
from streamcore.db.migrate import ensure_schema
from streamcore.db.session import is_sqlite
from streamcore.errors import AppError, Forbidden, TooManyRequests, Unauthorized, error_responses
from streamcore.infra import Infra, build_infra
from streamcore.observability.endpoints import router as ops_router
from streamcore.observability.health import wait_until_ready
from streamcore.observability.logging import configure_logging
from streamcore.organizations.endpoints import router as organizations_router
from streamcore.projects.endpoints import router as projects_router
from streamcore.reprocess.endpoints import router as reprocess_router
from streamcore.sessions.endpoints import router as sessions_router
from streamcore.signaling.server import Signaling
from streamcore.stream.endpoints import router as stream_router
from streamcore.transcripts.endpoints import router as transcripts_router
from streamcore.uploads.endpoints import router as uploads_router
from streamcore.videos.endpoints import events_router
from streamcore.videos.endpoints import router as videos_router
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
            if own:
                await current.close()

    app = FastAPI(
        title="streamcore",
        version=__version__,
        description="Self-hostable video platform backend: upload, transcode to adaptive "
        "HLS, stream through encrypted expiring URLs.",
        lifespan=lifespan,
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
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(request_id=request_id[:64]):
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
            response.headers["X-Request-ID"] = request_id[:64]
            if template != "/stream/{token}":
                log.info(
                    "http.request",
                    method=request.method,
                    route=template,
                    status=response.status_code,
                    ms=round(elapsed * 1000, 1),
                )
            return response

    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> JSONResponse:
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
        return JSONResponse(
            {"error": name, "detail": str(exc.detail)},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("http.unhandled", error_class=type(exc).__name__)
        return JSONResponse({"error": "InternalError", "detail": "internal error"}, status_code=500)

    # Every route but these public ones sits behind auth.dependencies.get_principal.
    protected = error_responses(Unauthorized, Forbidden, TooManyRequests)
    app.include_router(ops_router)
    app.include_router(stream_router)
    app.include_router(auth_router)
    app.include_router(organizations_router)
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
    return app


def asgi_app(app: FastAPI) -> ASGIApp:
    """The app as served: Socket.IO on /socket.io/ in front of the HTTP API (one port)."""
    signaling: Signaling = app.state.signaling
    wrapped: ASGIApp = socketio.ASGIApp(signaling.sio, other_asgi_app=app)
    return wrapped
