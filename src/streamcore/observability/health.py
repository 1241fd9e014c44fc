"""What this process depends on, checked the same way by `/health` and at startup.

At startup `serve` and `worker` wait for every dependency with bounded, logged
backoff instead of exiting at once: in a deployment the database, object store,
broker and Redis may come up after (or restart beside) the nodes that use them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy import text

from streamcore.infra import Infra

log = structlog.get_logger(__name__)

OK = "ok"
FIRST_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 10.0


# Without these a process cannot do anything (migrations, every request).
REQUIRED = frozenset({"database"})


class DependenciesUnavailable(RuntimeError):
    """The database was still failing when the startup timeout ran out."""


async def _database(infra: Infra) -> None:
    async with infra.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def _checks(infra: Infra) -> dict[str, Callable[[], Awaitable[None]]]:
    checks: dict[str, Callable[[], Awaitable[None]]] = {
        "database": lambda: _database(infra),
        "storage": infra.storage.check,
        "bus": infra.bus.check,
    }
    if infra.settings.redis.url:
        checks["redis"] = infra.ratelimiter.check
    return checks


def describe(exc: BaseException) -> str:
    """`error: Class: message`, the message being ours (adapters translate vendor errors)."""
    message = str(exc).strip()
    return f"error: {type(exc).__name__}" + (f": {message[:300]}" if message else "")


async def check_dependencies(infra: Infra, timeout: float = 10.0) -> dict[str, str]:
    """Each dependency's state: "ok" or what is wrong with it; all checked at once."""

    async def one(check: Callable[[], Awaitable[None]]) -> str:
        try:
            await asyncio.wait_for(check(), timeout)
        except Exception as exc:
            return describe(exc)
        return OK

    checks = _checks(infra)
    results = await asyncio.gather(*(one(c) for c in checks.values()))
    return dict(zip(checks, results, strict=True))


async def wait_until_ready(infra: Infra, timeout: float | None = None) -> None:
    """Return once every dependency answers; log what is wrong on each try (delays
    0.5 s doubling to 10 s). After `timeout`, a database that still fails raises
    DependenciesUnavailable; storage, bus or Redis still failing are logged as an error
    and the process starts degraded (`/health` says so, their adapters keep retrying)."""
    limit = infra.settings.startup_timeout_seconds if timeout is None else timeout
    deadline = time.monotonic() + limit
    delay = FIRST_DELAY_SECONDS
    attempt = 0
    while True:
        attempt += 1
        states = await check_dependencies(infra)
        failing = {name: state for name, state in states.items() if state != OK}
        if not failing:
            if attempt > 1:
                log.info("startup.dependencies_ready", attempts=attempt)
            return
        remaining = deadline - time.monotonic()
        for name, state in failing.items():
            log.warning(
                "startup.dependency_unavailable",
                dependency=name,
                problem=state,
                attempt=attempt,
                retry_in=round(min(delay, max(remaining, 0)), 1),
            )
        if remaining <= 0:
            names = ", ".join(f"{n} ({s})" for n, s in failing.items())
            if REQUIRED & failing.keys():
                raise DependenciesUnavailable(f"gave up after {limit:.0f}s waiting for {names}")
            log.error("startup.degraded", failing=failing)
            return
        await asyncio.sleep(min(delay, remaining))
        delay = min(delay * 2, MAX_DELAY_SECONDS)
