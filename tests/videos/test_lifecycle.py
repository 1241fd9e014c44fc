"""The asset state machine: one event per committed transition, none for a rolled-back
one, illegal moves refused (409 over HTTP), playable kept across a re-run."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.app import create_app
from streamcore.auth import service as auth
from streamcore.infra import Infra
from streamcore.models import Asset, AssetSource, AssetStatus, OutboxEvent
from streamcore.organizations import service as organizations
from streamcore.projects import service as projects
from streamcore.videos import layout, lifecycle
from streamcore.videos import service as videos
from streamcore.videos.events import EVENTS_TOPIC
from streamcore.videos.lifecycle import TRANSITIONS, IllegalTransition, can_move
from tests.seed import seed_asset

S = AssetStatus
Step = Callable[[AsyncSession, Asset], Awaitable[None]]


async def events_of(infra: Infra, asset_id: str) -> list[dict[str, object]]:
    async with infra.transaction() as s:
        rows = await s.execute(
            select(OutboxEvent)
            .where(OutboxEvent.key == asset_id, OutboxEvent.topic == EVENTS_TOPIC)
            .order_by(OutboxEvent.created_at)
        )
        return [e.payload for e in rows.scalars()]


def master(asset: Asset) -> str:
    return layout.master_key(asset.id)


async def in_transaction(infra: Infra, asset_id: str, step: Step) -> None:
    async with infra.transaction() as s:
        await step(s, await videos.get_asset(s, asset_id, for_update=True))


async def new_project(infra: Infra) -> str:
    async with infra.transaction() as s:
        return (await projects.create_project(s, f"lc-{uuid.uuid4().hex[:6]}")).id


async def test_each_transition_writes_exactly_one_event(infra: Infra) -> None:
    project_id = await new_project(infra)
    async with infra.transaction() as s:
        asset = await videos.create_asset(s, project_id=project_id, source=AssetSource.upload)
    asset_id = asset.id
    steps = [
        (lambda s, a: lifecycle.mark_uploaded(s, a, 1234), ["video.uploaded"]),
        (lambda s, a: lifecycle.start(s, a, S.ingesting), ["video.processing"]),
        # A retry in the same state is no transition.
        (lambda s, a: lifecycle.start(s, a, S.ingesting), []),
        (lambda s, a: lifecycle.start(s, a, S.transcoding), ["video.processing"]),
        # Its worker died: the video waits for the next attempt, then works again.
        (lambda s, a: lifecycle.retrying(s, a, "WorkerLost", "gone"), ["video.retrying"]),
        (lambda s, a: lifecycle.start(s, a, S.transcoding), ["video.processing"]),
        (lambda s, a: lifecycle.publish_playback(s, a, master(a)), ["video.playable"]),
        (lambda s, a: lifecycle.publish_playback(s, a, master(a)), []),
        (lambda s, a: lifecycle.mark_ready(s, a, master(a), {}), ["video.ready"]),
        (lambda s, a: lifecycle.transcript_ready(s, a, "en"), ["transcript.ready"]),
        (lambda s, a: lifecycle.transcript_failed(s, a, "X", "y"), ["transcript.failed"]),
        (lambda s, a: lifecycle.record_update(s, a), ["video.updated"]),
        (lambda s, a: lifecycle.reprocess(s, a), ["video.uploaded"]),
        (lambda s, a: lifecycle.cancel(s, a), ["video.cancelled"]),
        (lambda s, a: lifecycle.begin_delete(s, a), ["video.deleting"]),
        (lambda s, a: lifecycle.finish_delete(s, a), ["video.deleted"]),
    ]
    expected = ["video.created"]
    assert [e["type"] for e in await events_of(infra, asset_id)] == expected
    for step, new in steps:
        await in_transaction(infra, asset_id, step)
        expected += new
        events = await events_of(infra, asset_id)
        assert [e["type"] for e in events] == expected
    final = events[-1]
    assert set(final) == {"id", "type", "version", "occurred_at", "project_id", "video_id", "data"}
    assert (final["video_id"], final["project_id"], final["version"]) == (asset_id, project_id, 1)
    data = final["data"]
    assert isinstance(data, dict)
    assert (data["id"], data["status"], data["playable"]) == (asset_id, "deleted", False)
    # Every event shows the video as it was at that transition.
    statuses = [e["data"]["status"] for e in events]  # type: ignore[index]
    assert statuses[:3] == ["awaiting_upload", "uploaded", "ingesting"]
    assert len({e["id"] for e in events}) == len(events)


async def test_a_rolled_back_transaction_writes_no_event(infra: Infra) -> None:
    project_id = await new_project(infra)
    async with infra.transaction() as s:
        asset = await seed_asset(s, project_id=project_id, status=S.transcoding)
    before = await events_of(infra, asset.id)

    async def fail_then_crash(s: AsyncSession, a: Asset) -> None:
        await lifecycle.fail(s, a, "DecodeFailed", "damaged")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await in_transaction(infra, asset.id, fail_then_crash)
    assert await events_of(infra, asset.id) == before
    async with infra.transaction() as s:
        assert (await videos.get_asset(s, asset.id)).status is S.transcoding


async def test_illegal_transitions_are_refused_and_write_nothing(infra: Infra) -> None:
    project_id = await new_project(infra)
    async with infra.transaction() as s:
        asset = await seed_asset(s, project_id=project_id, status=S.deleted)
    before = await events_of(infra, asset.id)
    for wanted in (S.uploaded, S.transcoding, S.ready):
        with pytest.raises(IllegalTransition, match="the video is deleted"):
            await in_transaction(infra, asset.id, lambda s, a, w=wanted: lifecycle.start(s, a, w))
    with pytest.raises(IllegalTransition):
        await in_transaction(infra, asset.id, lambda s, a: lifecycle.mark_uploaded(s, a, 1))
    assert await events_of(infra, asset.id) == before


def test_the_transition_table() -> None:
    # Every state is in the table, and only deleting reaches deleted.
    assert set(TRANSITIONS) == set(AssetStatus)
    assert [a for a in S if S.deleted in TRANSITIONS[a]] == [S.deleting]
    assert TRANSITIONS[S.deleted] == frozenset()
    # Work moves forward only; finished videos go back only by reprocess or replay.
    assert not can_move(S.ready, S.ingesting)
    assert not can_move(S.transcoding, S.uploaded)
    assert can_move(S.failed, S.uploaded)
    assert can_move(S.cancelled, S.transcoding)
    for a, b in itertools.product(S, S):
        assert can_move(a, b) == (a == b or b in TRANSITIONS[a])


async def test_playable_survives_a_rerun_over_the_same_renditions(infra: Infra) -> None:
    project_id = await new_project(infra)
    ladder = [{"name": "360p", "width": 640, "height": 360, "video_kbps": 800, "audio_kbps": 96}]
    async with infra.transaction() as s:
        asset = await seed_asset(s, project_id=project_id, status=S.ready, renditions=ladder)
        asset.playback_key = master(asset)
    async with infra.transaction() as s:
        locked = await videos.get_asset(s, asset.id, for_update=True)
        await lifecycle.reprocess(s, locked)
        await lifecycle.start(s, locked, S.ingesting)
        assert not lifecycle.set_renditions(locked, [dict(r) for r in ladder])
        await lifecycle.start(s, locked, S.transcoding)
        assert lifecycle.is_playable(locked)
    # A new ladder names other playlists: the old one is unpublished.
    async with infra.transaction() as s:
        locked = await videos.get_asset(s, asset.id, for_update=True)
        assert lifecycle.set_renditions(locked, [{**ladder[0], "name": "240p", "height": 240}])
        assert not lifecycle.is_playable(locked)


async def test_an_illegal_transition_is_409_over_http(infra: Infra) -> None:
    app = create_app(infra=infra, run_worker=False)
    async with app.router.lifespan_context(app):
        async with infra.transaction() as s:
            user = await auth.create_user(
                s, infra, f"lc-{uuid.uuid4().hex[:8]}@example.com", "lifecycle password"
            )
            org = await organizations.first_owned(s, user.id)
            assert org is not None
            project = await projects.create_project(s, "lc", org.id)
            asset = await seed_asset(s, project_id=project.id, status=S.transcoding)
        before = await events_of(infra, asset.id)
        headers = {"Authorization": f"Bearer {infra.access_tokens.issue(user.id)}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sc") as c:
            resp = await c.post(f"/reprocess/{project.id}/{asset.id}", headers=headers)
        assert resp.status_code == 409, resp.text
        assert resp.json() == {
            "error": "IllegalTransition",
            "detail": "the video is transcoding; reprocess it once it is ready or failed",
        }
        assert await events_of(infra, asset.id) == before
