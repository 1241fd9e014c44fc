"""Both rate limiters keep the same fixed-window semantics; Redis is the real one."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from streamcore.adapters.ratelimit import (
    MemoryRateLimiter,
    RateLimiter,
    RateLimiterUnavailable,
    RedisRateLimiter,
)
from tests.fixtures.services import free_port


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[RateLimiter]:
    built: RateLimiter
    if request.param == "memory":
        built = MemoryRateLimiter()
    else:
        built = RedisRateLimiter(redis_url, prefix=f"streamcore-test:{uuid.uuid4().hex}:")
    try:
        yield built
    finally:
        await built.close()


async def test_allows_up_to_the_limit_then_denies_until_the_window_ends(
    limiter: RateLimiter,
) -> None:
    decisions = [await limiter.hit("k", 3, 0.5) for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [d.count for d in decisions] == [1, 2, 3, 4, 5]
    assert 0 < decisions[-1].reset_seconds <= 0.5
    assert decisions[-1].retry_after == 1
    assert (await limiter.hit("other", 3, 0.5)).allowed
    await asyncio.sleep(0.6)
    assert (await limiter.hit("k", 3, 0.5)).count == 1


async def test_reset_forgets_the_window(limiter: RateLimiter) -> None:
    for _ in range(3):
        await limiter.hit("k", 2, 60)
    assert not (await limiter.hit("k", 2, 60)).allowed
    await limiter.reset("k")
    decision = await limiter.hit("k", 2, 60)
    assert decision.allowed
    assert decision.count == 1
    assert 59 < decision.reset_seconds <= 60
    await limiter.check()


async def test_redis_counters_are_shared_between_nodes(redis_url: str) -> None:
    prefix = f"streamcore-test:{uuid.uuid4().hex}:"
    a, b = RedisRateLimiter(redis_url, prefix=prefix), RedisRateLimiter(redis_url, prefix=prefix)
    try:
        await a.hit("k", 2, 60)
        await b.hit("k", 2, 60)
        assert not (await a.hit("k", 2, 60)).allowed
    finally:
        await a.close()
        await b.close()


async def test_unreachable_redis_is_rate_limiter_unavailable() -> None:
    dead = RedisRateLimiter(f"redis://127.0.0.1:{free_port()}/0")
    try:
        with pytest.raises(RateLimiterUnavailable):
            await dead.hit("k", 1, 1)
        with pytest.raises(RateLimiterUnavailable):
            await dead.check()
    finally:
        await dead.close()


async def test_memory_limiter_sweeps_expired_windows() -> None:
    now = [0.0]
    limiter = MemoryRateLimiter(clock=lambda: now[0])
    limiter.SWEEP_AT = 10
    for i in range(10):
        await limiter.hit(f"k{i}", 1, 1)
    now[0] = 2.0
    await limiter.hit("fresh", 1, 1)
    assert len(limiter._windows) == 1
