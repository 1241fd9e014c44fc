"""Fixed-window rate limits behind one seam: counters in process memory (embedded mode)
or in Redis (shared by every API node).

A window opens on the first hit of a key and lasts `window_seconds`; hits past `limit`
in it are denied until it closes. Errors: `RateLimiterUnavailable` when the backing
store cannot be reached (vendor errors never cross the seam).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError


class RateLimiterUnavailable(Exception):
    """The counter store cannot be reached."""


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    count: int
    limit: int
    reset_seconds: float

    @property
    def retry_after(self) -> int:
        """Whole seconds to wait (the Retry-After header)."""
        return max(1, math.ceil(self.reset_seconds))


class RateLimiter(Protocol):
    name: str

    async def hit(self, key: str, limit: int, window_seconds: float) -> RateDecision:
        """Count one event for key and say whether it is within the limit."""
        ...

    async def reset(self, key: str) -> None:
        """Forget key's window (a successful login clears its failed attempts)."""
        ...

    async def check(self) -> None:
        """Raise RateLimiterUnavailable when the store is unreachable."""
        ...

    async def close(self) -> None: ...


class MemoryRateLimiter:
    """Counters in this process: right for one node (embedded mode)."""

    name = "memory"
    # Expired windows are swept once the table grows past this many keys.
    SWEEP_AT = 10_000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, limit: int, window_seconds: float) -> RateDecision:
        now = self._clock()
        ends, count = self._windows.get(key, (0.0, 0))
        if ends <= now:
            if len(self._windows) >= self.SWEEP_AT:
                self._sweep(now)
            ends, count = now + window_seconds, 0
        count += 1
        self._windows[key] = (ends, count)
        return RateDecision(count <= limit, count, limit, ends - now)

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)

    async def check(self) -> None:
        return None

    async def close(self) -> None:
        self._windows.clear()

    def _sweep(self, now: float) -> None:
        for key in [k for k, (ends, _) in self._windows.items() if ends <= now]:
            del self._windows[key]


class RedisRateLimiter:
    """Counters in Redis, so every API node sees the same windows."""

    name = "redis"

    def __init__(self, url: str, *, prefix: str = "streamcore:ratelimit:") -> None:
        self._redis: Redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix

    async def hit(self, key: str, limit: int, window_seconds: float) -> RateDecision:
        name = self._prefix + key
        window_ms = max(1, int(window_seconds * 1000))
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                # SET NX opens the window with its expiry in the same step as the first count.
                pipe.set(name, 0, px=window_ms, nx=True)
                pipe.incr(name)
                pipe.pttl(name)
                _, count, ttl_ms = await pipe.execute()
            if ttl_ms < 0:
                # A key without expiry (written by something else): never let it stick.
                await self._redis.pexpire(name, window_ms)
                ttl_ms = window_ms
        except RedisError as exc:
            raise RateLimiterUnavailable(f"redis: {type(exc).__name__}: {exc}") from exc
        return RateDecision(int(count) <= limit, int(count), limit, ttl_ms / 1000)

    async def reset(self, key: str) -> None:
        try:
            await self._redis.delete(self._prefix + key)
        except RedisError as exc:
            raise RateLimiterUnavailable(f"redis: {type(exc).__name__}: {exc}") from exc

    async def check(self) -> None:
        try:
            await self._redis.ping()
        except RedisError as exc:
            raise RateLimiterUnavailable(f"redis: {type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        await self._redis.aclose()


def build_rate_limiter(redis_url: str, prefix: str = "streamcore") -> RateLimiter:
    if redis_url:
        return RedisRateLimiter(redis_url, prefix=f"{prefix}:ratelimit:")
    return MemoryRateLimiter()
