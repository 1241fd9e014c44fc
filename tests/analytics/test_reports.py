"""`GET /analytics` and `GET /analytics/uploads`: the access rules of the videos they
cover, the upload log's numbers, day grouping, parameter errors and the retention
sweep (SQLite and PostgreSQL)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from streamcore.analytics import service
from streamcore.auth import service as auth
from streamcore.db.base import utcnow
from streamcore.models import AnalyticsEvent, AnalyticsView
from streamcore.organizations import service as organizations
from streamcore.projects import service as projects
from tests.analytics.conftest import World, view_events
from tests.analytics.test_beacons import post, report, settle


async def _stranger(world: World) -> tuple[dict[str, str], str]:
    """A user of another organization with a project of their own."""
    infra = world.api.infra
    async with infra.transaction() as s:
        email = f"stranger-{secrets.token_hex(3)}@analytics.example"
        user = await auth.create_user(s, infra, email, "stranger password")
        org = await organizations.create_organization(s, "Other org", user.id)
        project = await projects.create_project(s, "other", org.id)
    return {"Authorization": f"Bearer {infra.access_tokens.issue(user.id)}"}, project.id


async def _api_key(world: World, headers: dict[str, str], project_id: str) -> dict[str, str]:
    async with world.client(headers=headers) as c:
        resp = await c.post(
            f"/projects/{project_id}/api-keys", json={"name": "reports", "scopes": ["read"]}
        )
    assert resp.status_code == 201, resp.text
    return {"X-API-Key": resp.json()["key"]}


async def _get(world: World, headers: dict[str, str], path: str, **params: Any) -> Any:
    async with world.client(headers=headers) as c:
        return await c.get(path, params=params)


async def test_reports_follow_the_access_rules_of_videos(world: World) -> None:
    video, token = await world.video()
    assert (await post(world, token, view_events())).status_code == 202
    await settle(world)
    stranger, other_project = await _stranger(world)
    for path in ("/analytics", "/analytics/uploads"):
        assert (await _get(world, {}, path, video_id=video)).status_code == 401
        resp = await _get(world, stranger, path, video_id=video)
        assert resp.status_code == 404
        assert resp.json()["detail"] == "video not found"
        resp = await _get(world, stranger, path, project_id=world.project_id)
        assert resp.status_code == 404
        assert (await _get(world, world.headers, path)).status_code == 400
    own_key = await _api_key(world, world.headers, world.project_id)
    resp = await _get(world, own_key, "/analytics", interval="day")
    assert resp.status_code == 200, resp.text
    assert resp.json()["project_id"] == world.project_id
    assert resp.json()["totals"]["views"] >= 1
    other_key = await _api_key(world, stranger, other_project)
    assert (await _get(world, other_key, "/analytics", video_id=video)).status_code == 404
    resp = await _get(world, other_key, "/analytics", project_id=world.project_id)
    assert resp.status_code in (403, 404)


async def test_bad_report_parameters_are_400(world: World) -> None:
    video, _ = await world.video()
    h = world.headers
    now = utcnow()
    cases: list[dict[str, Any]] = [
        {"video_id": video, "project_id": world.project_id},
        {"video_id": video, "from": now.isoformat(), "to": (now - timedelta(days=1)).isoformat()},
        {"video_id": video, "from": (now - timedelta(days=500)).isoformat()},
        {"video_id": video, "to": "0001-01-02T00:00:00Z"},
        {"video_id": video, "from": "9999-12-31T23:30:00Z", "to": "9999-12-31T23:59:00Z"},
    ]
    for params in cases:
        resp = await _get(world, h, "/analytics", **params)
        assert resp.status_code == 400, (params, resp.text)
    resp = await _get(world, h, "/analytics", video_id=video, interval="minute")
    assert resp.status_code == 422


async def test_views_group_by_day_and_video(world: World) -> None:
    video, token = await world.video()
    yesterday = int((utcnow() - timedelta(days=1)).timestamp() * 1000)
    assert (await post(world, token, view_events(start_ms=yesterday))).status_code == 202
    assert (await post(world, token, view_events())).status_code == 202
    await settle(world)
    body = await report(world, video_id=video, interval="day", group_by="day")
    assert [g["views"] for g in body["groups"]] == [1, 1]
    assert [p["views"] for p in body["series"]] == [1, 1]
    assert body["totals"]["views"] == 2


async def test_uploads_by_method_and_outcome(world: World) -> None:
    headers = world.headers
    async with world.client(headers=headers) as c:
        ok = await c.post(
            f"/{world.project_id}/upload", files={"file": ("a.mp4", b"\0" * 4096, "video/mp4")}
        )
        assert ok.status_code == 201, ok.text
        bad = await c.post(
            f"/{world.project_id}/upload",
            content=b"--xx\r\nContent-Disposition: form-data; name=file\r\n\r\nshort",
            headers={"Content-Type": "multipart/form-data; boundary=xx"},
        )
        assert bad.status_code == 400, bad.text
    resp = await _get(world, headers, "/analytics/uploads", project_id=world.project_id)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    rows = {(r["method"], r["outcome"]): r for r in body["by_method"]}
    assert rows[("multipart", "succeeded")]["bytes"] >= 4096
    assert rows[("multipart", "failed")]["uploads"] >= 1
    assert {"error_class": "BadRequest", "uploads": 1} in body["failures_by_class"]
    assert body["failures"] >= 1
    assert body["uploads"] >= 2


async def test_the_retention_sweep_drops_raw_events_then_rollups(world: World) -> None:
    video, token = await world.video()
    assert (await post(world, token, view_events())).status_code == 202
    await settle(world)
    infra = world.api.infra
    cfg = infra.settings.analytics
    # A month and a day on: the raw events are gone, the numbers stay.
    await service.sweep_retention(infra, now=utcnow() + timedelta(days=cfg.raw_retention_days + 1))
    async with infra.transaction() as s:
        raw = (
            await s.execute(select(func.count()).where(AnalyticsEvent.video_id == video))
        ).scalar_one()
    assert raw == 0
    assert (await report(world, video_id=video))["totals"]["views"] == 1
    later = utcnow() + timedelta(days=cfg.rollup_retention_days + 1)
    await service.sweep_retention(infra, now=later)
    async with infra.transaction() as s:
        views = (
            await s.execute(select(func.count()).where(AnalyticsView.video_id == video))
        ).scalar_one()
    assert views == 0
    assert (await report(world, video_id=video))["totals"]["views"] == 0
