"""Everything streamcore keeps or publishes in Redis is under STREAMCORE_REDIS__PREFIX:
realtime events, Socket.IO, presence, rate limits and cancel signals."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import redis.asyncio as aioredis

from streamcore.config import Settings
from streamcore.infra import build_infra
from streamcore.signaling.server import Signaling


async def _channels(client: aioredis.Redis) -> set[str]:
    return {c.decode() for c in await client.pubsub_channels()}


async def _keys(client: aioredis.Redis) -> set[str]:
    return {k.decode() async for k in client.scan_iter(count=1000)}


async def test_every_key_and_channel_carries_the_prefix(tmp_path: Path, redis_url: str) -> None:
    prefix = f"p{uuid.uuid4().hex[:8]}"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        secret_key="s" * 40,
        redis={"url": redis_url, "prefix": prefix},  # type: ignore[arg-type]
    )
    probe = aioredis.from_url(redis_url)
    channels_before, keys_before = await _channels(probe), await _keys(probe)
    infra = build_infra(settings)
    signaling = Signaling(settings)
    try:
        async with infra.realtime.subscribe("asset:x") as queue:
            unsubscribe = infra.signals.on_cancel(lambda job_id: None)
            await signaling.sio.manager.emit("ping", {}, namespace="/", room="nobody")
            await infra.presence.add("session:s", "peer", {"name": "a"})
            await infra.ratelimiter.hit("login:ip:127.0.0.1", 5, 60)
            await infra.realtime.publish("asset:x", {"type": "status"})
            assert await asyncio.wait_for(queue.get(), 5) == {"type": "status"}
            await asyncio.sleep(0.5)  # let the cancel listener subscribe
            new_channels = await _channels(probe) - channels_before
            new_keys = await _keys(probe) - keys_before
            unsubscribe()
    finally:
        await infra.close()
        await probe.aclose()
    assert {f"{prefix}:events", f"{prefix}:cancel"} <= new_channels
    assert any(k.startswith(f"{prefix}:presence:") for k in new_keys), new_keys
    assert any(k.startswith(f"{prefix}:ratelimit:") for k in new_keys), new_keys
    assert signaling.sio.manager.channel == f"{prefix}:socketio"
    outside = sorted(n for n in new_channels | new_keys if not n.startswith(f"{prefix}:"))
    assert outside == []
