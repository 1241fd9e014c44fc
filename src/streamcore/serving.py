"""How `streamcore serve` runs the app: Granian (a Rust HTTP server: HTTP/1.1 with
keep-alive, HTTP/2, websockets, and ASGI `pathsend`, so FileResponse goes out without
Python copying the bytes) with N worker processes accepting on one shared socket.

Measured here (bench/serve.py) it serves a 1.4 MB segment 4-5x faster than uvicorn
from one process. With more than one process the processes must share Socket.IO
rooms, presence, cancel signals and rate limits, which needs Redis
(`STREAMCORE_REDIS__URL`); without it `serve` stays at one process. The job worker runs
inside the one process, or as one `streamcore worker` child beside N HTTP processes.
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import structlog
from starlette.types import ASGIApp

from streamcore.config import Settings

log = structlog.get_logger(__name__)

HttpMode = Literal["auto", "1", "2"]


class ServeConfigError(ValueError):
    """The serve options cannot work together (reported by the CLI, exit code 2)."""


@dataclass
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    # None: the number of cores when Redis is configured, else 1.
    workers: int | None = None
    run_worker: bool = True
    # "auto": HTTP/1.1 and HTTP/2 (h2c prior knowledge, or ALPN with TLS).
    http: HttpMode = "auto"
    # A unix socket instead of host:port (for an nginx on the same host).
    uds: Path | None = None
    ssl_certificate: Path | None = None
    ssl_keyfile: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def resolve_workers(settings: Settings, requested: int | None) -> int:
    """How many HTTP processes to run; several need Redis to share signaling state."""
    if requested is None:
        return cores() if settings.redis.url else 1
    if requested < 1:
        raise ServeConfigError("--workers must be at least 1")
    if requested > 1 and not settings.redis.url:
        raise ServeConfigError(
            "--workers > 1 needs STREAMCORE_REDIS__URL: processes share Socket.IO rooms, "
            "presence, cancel signals and rate limits through Redis"
        )
    return requested


def load_application(target: str, run_worker: bool) -> ASGIApp:
    """Granian's target loader, called in every worker process."""
    from streamcore.app import asgi_app, create_app

    del target  # the app is always ours; Granian passes its target string
    return asgi_app(create_app(Settings(), run_worker=run_worker))


async def prepare(settings: Settings) -> None:
    """Before any worker starts: the secret exists and the schema is migrated, so N
    processes do not race to create either."""
    from streamcore.db.migrate import ensure_schema
    from streamcore.infra import build_infra
    from streamcore.observability.health import wait_until_ready

    infra = build_infra(settings)
    try:
        # The dependencies may come up after this node: wait (bounded, logged).
        await wait_until_ready(infra)
        await ensure_schema(infra.engine, auto_migrate=settings.database.auto_migrate)
    finally:
        await infra.close()


class _JobWorker:
    """`streamcore worker` as a child of serve when the HTTP processes are several."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "streamcore", "worker"])

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def server_limits(settings: Settings) -> dict[str, Any]:
    """Granian's arguments for the limits in `settings.http`, all set here."""
    from granian.http import HTTP1Settings, HTTP2Settings

    http = settings.http
    return {
        "http1_settings": HTTP1Settings(
            header_read_timeout=int(http.header_read_timeout_seconds * 1000),
            keep_alive=http.keep_alive,
            max_buffer_size=http.max_header_bytes,
        ),
        "http2_settings": HTTP2Settings(
            max_concurrent_streams=http.http2_max_concurrent_streams,
            max_headers_size=http.max_header_bytes,
            keep_alive_timeout=http.http2_keep_alive_timeout_seconds,
        ),
        "backlog": http.backlog,
        "backpressure": http.max_concurrent_requests,
    }


def serve(settings: Settings, options: ServeOptions) -> None:
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces

    workers = resolve_workers(settings, options.workers)
    asyncio.run(prepare(settings))
    separate_worker = options.run_worker and workers > 1
    server = Granian(
        "streamcore",
        address=options.host,
        port=options.port,
        uds=options.uds,
        interface=Interfaces.ASGI,
        workers=workers,
        http=HTTPModes(options.http),
        websockets=True,
        log_access=False,
        ssl_cert=options.ssl_certificate,
        ssl_key=options.ssl_keyfile,
        **{**server_limits(settings), **options.extra},
    )
    job_worker = _JobWorker()
    if separate_worker:
        server.on_startup(job_worker.start)
        server.on_shutdown(job_worker.stop)
    log.info("serve.starting", workers=workers, http=options.http, job_worker=options.run_worker)
    loader = functools.partial(load_application, run_worker=options.run_worker and workers == 1)
    server.serve(target_loader=loader)
