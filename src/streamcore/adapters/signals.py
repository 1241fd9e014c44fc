"""Signals between processes: "stop job X" reaches the worker running it at once.

In-process (embedded mode: the API and the worker share the process) or over Redis
pub/sub (distributed mode). Delivery is best effort, at most once: the job row's
`cancel_requested` stays the truth, and workers also see it on their next heartbeat.
Errors: SignalUnavailable (Redis cannot be reached) from `cancel`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)

CancelHandler = Callable[[str], None]
RECONNECT_SECONDS = 1.0


class SignalUnavailable(Exception):
    pass


class Signals(Protocol):
    name: str

    async def cancel(self, job_id: str) -> None:
        """Tell every process that job_id must stop."""
        ...

    def on_cancel(self, handler: CancelHandler) -> Callable[[], None]:
        """Call handler(job_id) for each cancel signal; returns the unsubscribe function."""
        ...

    async def close(self) -> None: ...


class _Handlers:
    def __init__(self) -> None:
        self._handlers: list[CancelHandler] = []

    def add(self, handler: CancelHandler) -> Callable[[], None]:
        self._handlers.append(handler)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._handlers.remove(handler)

        return remove

    def dispatch(self, job_id: str) -> None:
        for handler in list(self._handlers):
            try:
                handler(job_id)
            except Exception:
                log.exception("signals.handler_failed")

    def __bool__(self) -> bool:
        return bool(self._handlers)


class LocalSignals:
    name = "local"

    def __init__(self) -> None:
        self._handlers = _Handlers()

    async def cancel(self, job_id: str) -> None:
        self._handlers.dispatch(job_id)

    def on_cancel(self, handler: CancelHandler) -> Callable[[], None]:
        return self._handlers.add(handler)

    async def close(self) -> None:
        return None


class RedisSignals:
    """Redis pub/sub on `<prefix>:cancel`; a listener task runs while handlers exist."""

    name = "redis"

    def __init__(self, url: str, prefix: str = "streamcore") -> None:
        self._redis: Redis = Redis.from_url(url, socket_connect_timeout=5)
        self.channel = f"{prefix}:cancel"
        self._handlers = _Handlers()
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def cancel(self, job_id: str) -> None:
        try:
            await self._redis.publish(self.channel, job_id)
        except (RedisError, OSError) as exc:
            raise SignalUnavailable(f"cannot reach Redis: {exc!r}") from exc

    def on_cancel(self, handler: CancelHandler) -> Callable[[], None]:
        remove = self._handlers.add(handler)
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="signals-listener")
        return remove

    async def wait_subscribed(self, timeout: float = 5.0) -> None:
        """Until the listener is subscribed (tests publish right after subscribing)."""
        await asyncio.wait_for(self._subscribed.wait(), timeout)

    async def _listen(self) -> None:
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._subscribed.set()
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        data = message.get("data")
                        job_id = data.decode() if isinstance(data, bytes) else str(data)
                        self._handlers.dispatch(job_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                self._subscribed.clear()
                log.warning("signals.listener_failed", exc_info=True)
                await asyncio.sleep(RECONNECT_SECONDS)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        with contextlib.suppress(Exception):
            await self._redis.aclose()
