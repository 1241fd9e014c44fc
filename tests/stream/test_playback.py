"""The playlist cache and the view log, in process on a real database (SQLite and
PostgreSQL) and the real in-process realtime fan-out."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from streamcore.infra import Infra
from streamcore.media.hls import parse
from streamcore.models import StreamLog
from streamcore.security.stream_tokens import StreamClaim
from streamcore.stream.cache import PlaylistCache
from streamcore.stream.service import Playback, Signable
from streamcore.stream.viewlog import DatabaseViewSink, ViewLog
from streamcore.videos import layout

VOD = (
    "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nseg_0.ts\n#EXTINF:4,\nseg_1.ts\n#EXT-X-ENDLIST\n"
)
GROWING = "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXTINF:4,\nseg_0.ts\n"


async def test_template_renders_what_rewriting_gives() -> None:
    template = parse(VOD, "hls/720p/index.m3u8")
    assert template.targets == ("hls/720p/seg_0.ts", "hls/720p/seg_1.ts")
    assert template.render(["A.ts", "B.ts"]) == VOD.replace("seg_0.ts", "A.ts").replace(
        "seg_1.ts", "B.ts"
    )


async def test_cache_keeps_final_playlists_bounded_and_drops_on_state_change() -> None:
    cache: PlaylistCache[Signable] = PlaylistCache(entries=2, max_age=60)
    loads: list[str] = []

    def loader(text: str, name: str):  # type: ignore[no-untyped-def]
        async def load() -> Signable:
            loads.append(name)
            return Signable(parse(text, "hls/720p/index.m3u8"))

        return load

    for _ in range(3):
        await cache.get("a", "vod", loader(VOD, "vod"), keep=Signable.final)
        await cache.get("a", "event", loader(GROWING, "event"), keep=Signable.final)
    # The VOD playlist was read once; the growing EVENT playlist on every request.
    assert loads == ["vod", "event", "event", "event"]
    await cache.get("b", "vod", loader(VOD, "b1"), keep=Signable.final)
    await cache.get("c", "vod", loader(VOD, "c1"), keep=Signable.final)
    assert len(cache) == 2  # bounded: ("a", "vod") went first
    await cache.get("a", "vod", loader(VOD, "vod-again"), keep=Signable.final)
    assert loads[-1] == "vod-again"
    await cache.on_event("asset:c", {"type": "progress", "progress": 50})
    await cache.get("c", "vod", loader(VOD, "c2"), keep=Signable.final)
    assert loads[-1] == "vod-again"  # progress ticks keep it
    await cache.on_event("asset:c", {"type": "status", "status": "deleting"})
    await cache.get("c", "vod", loader(VOD, "c3"), keep=Signable.final)
    assert loads[-1] == "c3"


async def test_cache_entries_age_out() -> None:
    cache: PlaylistCache[str] = PlaylistCache(entries=10, max_age=0.05)
    count = 0

    async def load() -> str:
        nonlocal count
        count += 1
        return "x"

    await cache.get("a", "p", load, keep=lambda _: True)
    await cache.get("a", "p", load, keep=lambda _: True)
    await asyncio.sleep(0.1)
    await cache.get("a", "p", load, keep=lambda _: True)
    assert count == 2


async def test_playback_drops_an_asset_when_its_event_is_published(infra: Infra) -> None:
    playback = Playback(infra)
    await playback.start()
    try:
        key = layout.key("asset1", "hls/720p/index.m3u8")
        await infra.storage.put_bytes(key, VOD.encode())
        claim = StreamClaim("asset1", "hls/720p/index.m3u8", int(time.time()) + 60)
        name = infra.tokens.encode(claim) + ".m3u8"
        _, first = await playback.answer(name, {})
        assert first.status == 200
        assert first.body.count(b".ts\n") == 2
        await infra.storage.put_bytes(key, VOD.replace("seg_1.ts\n", "").encode())
        _, cached = await playback.answer(name, {})
        assert cached.body.count(b".ts\n") == 2  # served from memory
        await infra.realtime.publish("asset:asset1", {"type": "status", "status": "ready"})
        _, fresh = await playback.answer(name, {})
        assert fresh.body.count(b".ts\n") == 1
    finally:
        await playback.stop()


async def test_view_log_writes_batches_and_drops_past_its_bound(infra: Infra) -> None:
    views = ViewLog(DatabaseViewSink(infra), flush_seconds=60, batch=500, max_buffered=2000)
    for i in range(1200):
        views.record("asset-v", "hls/master.m3u8", "master", 100 + i, "10.0.0.1", "ua")
    await views.flush()
    assert views.written == 1200
    async with infra.sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(StreamLog).where(StreamLog.asset_id == "asset-v")
        )
    assert count == 1200
    small = ViewLog(DatabaseViewSink(infra), flush_seconds=60, batch=10, max_buffered=10)
    for _ in range(15):
        small.record("asset-w", "hls/master.m3u8", "master", 1, None, None)
    assert small.dropped == 5
    await small.stop()
    assert small.written == 10


async def test_view_log_flushes_in_the_background(infra: Infra) -> None:
    views = ViewLog(DatabaseViewSink(infra), flush_seconds=0.05, batch=500, max_buffered=100)
    views.start()
    try:
        views.record("asset-bg", "hls/master.m3u8", "master", 1, None, "ua")
        for _ in range(100):
            if views.written:
                break
            await asyncio.sleep(0.02)
        assert views.written == 1
    finally:
        await views.stop()
