"""Player beacons in, numbers out, on SQLite and PostgreSQL: a simulated 10 s view, a
stall, two viewers, the rollup loop within a minute, segment bytes, every bad batch
refused with its reason and nothing of it stored, a token of one video reporting
nothing for another."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from sqlalchemy import func, select

from streamcore.analytics import service
from streamcore.analytics.tasks import run_rollups
from streamcore.models import AnalyticsEvent
from streamcore.stream import service as stream
from streamcore.videos import layout
from tests.analytics.conftest import TOKEN_LIMIT, World, view_events


async def post(world: World, token: str, events: list[dict[str, Any]], **body: Any) -> Any:
    """As navigator.sendBeacon sends: text/plain, the token in the query."""
    async with world.client() as c:
        return await c.post(
            f"/analytics/events?token={token}",
            content=json.dumps({"events": events, **body}),
            headers={"Content-Type": "text/plain;charset=UTF-8"},
        )


async def report(world: World, **params: Any) -> dict[str, Any]:
    async with world.client(headers=world.headers) as c:
        resp = await c.get("/analytics", params=params)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def settle(world: World) -> None:
    """What the buffer holds written, and the rollup run to the end."""
    await world.api.app.state.analytics.buffer.flush()
    await service.roll_up_all(world.api.infra)


async def count_events(world: World, video_id: str) -> int:
    async with world.api.infra.transaction() as s:
        stmt = select(func.count()).where(AnalyticsEvent.video_id == video_id)
        return int((await s.execute(stmt)).scalar_one())


async def test_a_ten_second_view_gives_one_view_its_watch_time_and_startup(world: World) -> None:
    video, token = await world.video()
    resp = await post(world, token, view_events(seconds=10, startup_ms=800))
    assert resp.status_code == 202, resp.text
    assert resp.json() == {"accepted": 4}
    await settle(world)
    body = await report(world, video_id=video, interval="hour")
    totals = body["totals"]
    assert totals["views"] == 1
    assert totals["unique_viewers"] == 1
    assert abs(totals["watch_time_seconds"] - 10) <= 1.5
    assert 650 <= totals["startup_time_p50_ms"] <= 800
    assert totals["startup_time_mean_ms"] == 800
    assert totals["rebuffer_percentage"] == 0
    assert totals["failure_percentage"] == 0
    assert [p["views"] for p in body["series"]] == [1]
    assert body["from"] < body["to"]


async def test_a_stall_gives_a_rebuffer_percentage(world: World) -> None:
    video, token = await world.video()
    events = view_events(seconds=10, rebuffer=(3.0, 2.0))
    assert (await post(world, token, events)).status_code == 202
    await settle(world)
    totals = (await report(world, video_id=video))["totals"]
    assert totals["rebuffer_count"] == 1
    assert abs(totals["rebuffer_seconds"] - 2.0) < 0.01
    assert 15 <= totals["rebuffer_percentage"] <= 25  # 2 s of 10 s watched
    by_rendition = (await report(world, video_id=video, group_by="rendition"))["groups"]
    assert [g["key"] for g in by_rendition] == ["720p"]
    assert by_rendition[0]["rebuffer_count"] == 1


async def test_two_viewers_are_two_unique_viewers(world: World) -> None:
    video, token = await world.video()
    for viewer in ("viewer-aaaa-1", "viewer-bbbb-2", "viewer-aaaa-1"):
        assert (await post(world, token, view_events(viewer=viewer))).status_code == 202
    await settle(world)
    totals = (await report(world, video_id=video))["totals"]
    assert totals["views"] == 3
    assert totals["unique_viewers"] == 2
    project = await report(world, project_id=world.project_id, group_by="video")
    mine = next(g for g in project["groups"] if g["key"] == video)
    assert mine["views"] == 3
    assert mine["unique_viewers"] == 2


async def test_the_rollup_loop_shows_a_view_within_a_minute(world: World) -> None:
    video, token = await world.video()
    stop = asyncio.Event()
    loop = asyncio.create_task(run_rollups(world.api.infra, stop))
    try:
        sent = time.monotonic()
        assert (await post(world, token, view_events(seconds=20))).status_code == 202
        while time.monotonic() - sent < 60:
            totals = (await report(world, video_id=video))["totals"]
            if totals["views"]:
                break
            await asyncio.sleep(0.2)
        assert totals["views"] == 1, "no rollup within a minute"
        assert abs(totals["watch_time_seconds"] - 20) <= 1.5
    finally:
        stop.set()
        await loop


async def test_segment_bytes_come_from_the_stream_log(world: World) -> None:
    video, _ = await world.video()
    infra = world.api.infra
    segment = "hls/480p/seg_00001.ts"
    await infra.storage.put_bytes(layout.key(video, segment), b"\x47" * 18_800)
    name = stream.signed_name(infra, video, segment)
    async with world.client() as c:
        for _ in range(3):
            assert (await c.get(f"/stream/{name}")).status_code == 200
    await world.api.app.state.playback.views.flush()
    body = await report(world, video_id=video, group_by="rendition")
    assert body["totals"]["bytes_served"] == 3 * 18_800
    assert body["totals"]["segment_requests"] == 3
    assert [(g["key"], g["bytes_served"]) for g in body["groups"]] == [("480p", 3 * 18_800)]


def _bad_batches(video: str, token: str, world: World) -> list[tuple[str, Any, str]]:
    good = view_events()
    backwards = [*good[:3], {**good[3], "at": good[0]["at"] - 1}]
    expired = stream.url_name(
        world.api.infra.tokens.issue(video, layout.MASTER_PATH, -60), layout.MASTER_PATH
    )
    return [
        ("unknown type", {"events": [{**good[0], "type": "explode"}]}, "unknown type"),
        ("backwards", {"events": backwards}, "backwards"),
        ("too many", {"events": good * 13}, "at most 50 events"),
        ("no events", {"events": []}, "no events"),
        ("not json", "{not json", "not JSON"),
        ("no token", {"events": good, "token": ""}, "token is required"),
        ("malformed token", {"events": good, "token": "bm90LWEtdG9rZW4"}, "invalid or expired"),
        ("expired token", {"events": good, "token": expired}, "invalid or expired"),
        (
            "segment token",
            {"events": good, "token": stream.signed_name(world.api.infra, video, "hls/a/b.ts")},
            "not a playback token",
        ),
        ("bad id", {"events": [{**good[0], "view_id": "x"}]}, "view_id"),
        ("extra field", {"events": good, "junk": 1}, "junk"),
        ("far clock", {"events": [{**good[0], "at": 1000}]}, "clock"),
    ]


async def test_bad_batches_are_refused_with_a_reason_and_nothing_is_stored(world: World) -> None:
    video, token = await world.video()
    async with world.client() as c:
        for label, body, reason in _bad_batches(video, token, world):
            raw = body if isinstance(body, str) else json.dumps(body)
            query = "" if isinstance(body, dict) and "token" in body else f"?token={token}"
            resp = await c.post(f"/analytics/events{query}", content=raw)
            assert resp.status_code == 400, (label, resp.text)
            assert resp.json()["error"] == "BadRequest", label
            assert reason in resp.json()["detail"], (label, resp.json())
        big = json.dumps({"events": view_events(), "pad": "x" * 17_000})
        resp = await c.post(f"/analytics/events?token={token}", content=big)
        assert resp.status_code == 413
    await settle(world)
    assert await count_events(world, video) == 0
    assert (await report(world, video_id=video))["totals"]["views"] == 0
    metrics = world.api.infra.metrics
    assert metrics.analytics_refused.labels("unknown_type")._value.get() >= 1
    assert metrics.analytics_refused.labels("too_large")._value.get() >= 1


async def test_a_token_of_one_video_reports_nothing_for_another(world: World) -> None:
    video_a, token_a = await world.video()
    video_b, token_b = await world.video()
    b_view = view_events(seconds=10)
    assert (await post(world, token_b, b_view)).status_code == 202
    resp = await post(world, token_a, view_events(), video_id=video_b)
    assert resp.status_code == 400
    assert "another video" in resp.json()["detail"]
    # The same view id through A's token: it counts for A, never for B.
    hijack = [{**e, "type": "error", "error_code": "x"} for e in b_view[-1:]]
    assert (await post(world, token_a, hijack)).status_code == 202
    await settle(world)
    b = (await report(world, video_id=video_b))["totals"]
    assert (b["views"], b["failures"]) == (1, 0)
    assert abs(b["watch_time_seconds"] - 10) <= 1.5
    a = (await report(world, video_id=video_a))["totals"]
    assert (a["views"], a["failures"]) == (1, 1)


async def test_beacons_are_limited_per_token(world: World) -> None:
    _, token = await world.video()
    codes = [(await post(world, token, view_events())).status_code for _ in range(TOKEN_LIMIT + 1)]
    assert codes[:TOKEN_LIMIT] == [202] * TOKEN_LIMIT
    assert codes[-1] == 429
    async with world.client() as c:
        resp = await c.post(
            f"/analytics/events?token={token}", content=json.dumps({"events": view_events()})
        )
    assert resp.status_code == 429
    assert int(resp.headers["Retry-After"]) >= 1


async def test_a_view_in_late_and_out_of_order_batches_counts_once(world: World) -> None:
    video, token = await world.video()
    events = view_events(seconds=30, rebuffer=(12.0, 1.0))
    half = len(events) // 2
    for part in (events[half:], events[:half], events[half:]):  # the last one a resend
        assert (await post(world, token, part)).status_code == 202
        await settle(world)  # a rollup round between each
    totals = (await report(world, video_id=video))["totals"]
    assert totals["views"] == 1
    assert totals["unique_viewers"] == 1
    assert abs(totals["watch_time_seconds"] - 30) <= 1.5
    assert totals["rebuffer_count"] == 1
    assert totals["startup_time_mean_ms"] == 800
