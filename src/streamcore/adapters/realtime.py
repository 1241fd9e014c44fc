"""Realtime fan-out of events (job progress, status changes) to listeners.

`publish(channel, event)` reaches every `subscribe(channel)` queue and every listener
added with `add_listener`, in this process (LocalRealtime, embedded mode) or in every
process sharing a Redis (RedisRealtime: one PUBLISH, one reader task per process).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

import redis.asyncio as aioredis
import structlog

log = structlog.get_logger(__name__)

QUEUE_SIZE = 256

Listener = Callable[[str, dict[str, Any]], Awaitable[None]]


class Realtime(Protocol):
    name: str

    async def publish(self, channel: str, event: dict[str, Any]) -> None: ...

    def subscribe(
        self, channel: str
    ) -> contextlib.AbstractAsyncContextManager[asyncio.Queue[dict[str, Any]]]: ...

    async def add_listener(self, listener: Listener) -> None: ...

    async def close(self) -> None: ...


class LocalRealtime:
    name = "local"

    def __init__(self) -> None:
        self._subscribers: defaultdict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._listeners: list[Listener] = []

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        await self._deliver(channel, event)

    async def _deliver(self, channel: str, event: dict[str, Any]) -> None:
        for queue in list(self._subscribers.get(channel, ())):
            if queue.full():
                # A slow listener loses the oldest events, never blocks the publisher.
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)
        for listener in self._listeners:
            try:
                await listener(channel, event)
            except Exception:
                log.warning("realtime.listener_failed", channel=channel, exc_info=True)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        await self._ensure_reader()
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers[channel].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[channel].discard(queue)
            if not self._subscribers[channel]:
                del self._subscribers[channel]

    async def add_listener(self, listener: Listener) -> None:
        await self._ensure_reader()
        self._listeners.append(listener)

    async def _ensure_reader(self) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisRealtime(LocalRealtime):
    name = "redis"

    def __init__(self, url: str, prefix: str = "streamcore") -> None:
        super().__init__()
        self._redis = aioredis.from_url(url)
        self.channel = f"{prefix}:events"
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        await self._redis.publish(self.channel, json.dumps({"c": channel, "e": event}))

    async def _ensure_reader(self) -> None:
        # Only processes that listen read; a worker that just publishes needs no reader.
        if self._reader is None:
            self._reader = asyncio.create_task(self._read(), name="realtime-redis-reader")
        await self._ready.wait()

    async def _read(self) -> None:
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._ready.set()
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        body = json.loads(message["data"])
                        await self._deliver(body["c"], body["e"])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("realtime.redis_reader_failed", exc_info=True)
                self._ready.set()
                await asyncio.sleep(1)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._redis.aclose()
