"""The rollup: views with new events are summed up again from all their events, and the
(video, hour) rollups they fall in get the difference between each view's old and new
summary.

Re-summing a view from all its events makes a round idempotent and order-free: beacons
that arrive late or out of order, or twice (a Kafka redelivery), give the same numbers.
Applying differences keeps a round's cost to its own views, however many views the hour
already has. On PostgreSQL a transaction-level advisory lock serializes the rounds of
all workers (a difference applied twice would count twice)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.analytics import repository
from streamcore.analytics.metrics import ViewSummary, roll_up, summarize
from streamcore.db.base import utcnow
from streamcore.infra import Infra
from streamcore.models import AnalyticsView

YIELD_EVERY = 50
# pg_advisory_xact_lock key of the rollup: "scrollup" as a big-endian int64.
ROLLUP_LOCK_KEY = int.from_bytes(b"scrollup", "big") - 2**63


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _view_row(key: repository.ViewKey, project_id: str, s: ViewSummary) -> dict[str, Any]:
    hour = hour_of(s.started_at)
    return {
        "video_id": key[0], "view_id": key[1], "project_id": project_id,
        "viewer_hash": s.viewer_hash, "started_at": s.started_at, "hour": hour,
        "day": hour.replace(hour=0), "startup_ms": s.startup_ms, "watch_ms": s.watch_ms,
        "rebuffer_count": s.rebuffer_count, "rebuffer_ms": s.rebuffer_ms, "failed": s.failed,
        "exited_before_start": s.exited_before_start, "ended": s.ended,
        "renditions": s.renditions, "events": s.events, "updated_at": utcnow(),
    }  # fmt: skip


def _summary(view: AnalyticsView) -> ViewSummary:
    return ViewSummary(
        viewer_hash=view.viewer_hash,
        started_at_ms=int(view.started_at.timestamp() * 1000),
        startup_ms=view.startup_ms,
        watch_ms=view.watch_ms,
        rebuffer_count=view.rebuffer_count,
        rebuffer_ms=view.rebuffer_ms,
        failed=view.failed,
        exited_before_start=view.exited_before_start,
        ended=view.ended,
        events=view.events,
        renditions={k: list(v) for k, v in (view.renditions or {}).items()},
    )


async def _lock(session: AsyncSession) -> None:
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ROLLUP_LOCK_KEY})


def _contribute(
    deltas: dict[repository.RollupKey, dict[str, int]],
    video: str,
    summary: ViewSummary,
    sign: int,
) -> None:
    """Add (sign 1) or take back (sign -1) one view's share of its hour's rollup rows."""
    hour = hour_of(summary.started_at)
    for rendition, rollup in roll_up([summary]).items():
        acc = deltas.setdefault((video, hour, rendition), {})
        for name, value in repository.rollup_values(rollup).items():
            if name != "viewers":
                acc[name] = acc.get(name, 0) + sign * value


async def roll_up_pending(infra: Infra) -> int:
    """One round: at most `rollup_views` pending views summed up again from all their
    events; each one's old share of its hour's rollup taken back and the new one added
    (so a round costs what its views cost, however busy the hour). One transaction."""
    async with infra.transaction() as session:
        await _lock(session)
        keys = await repository.claim_pending(session, infra.settings.analytics.rollup_views)
        if not keys:
            return 0
        events = await repository.events_of(session, keys)
        projects = await repository.projects_of(session, (v for v, _ in keys))
        stored = await repository.views_of(session, keys)
        rows = []
        deltas: dict[repository.RollupKey, dict[str, int]] = {}
        for i, (key, evs) in enumerate(sorted(events.items())):
            if i % YIELD_EVERY == YIELD_EVERY - 1:
                # Summing up is CPU work on the event loop: let requests in between.
                await asyncio.sleep(0)
            if key[0] not in projects or not evs:
                continue
            summary = summarize(evs)
            if key in stored:
                _contribute(deltas, key[0], _summary(stored[key]), -1)
            _contribute(deltas, key[0], summary, 1)
            rows.append(_view_row(key, projects[key[0]], summary))
        await repository.upsert_views(session, rows)
        await repository.add_rollups(session, projects, deltas)
        await repository.count_viewers(session, sorted({(v, h) for v, h, r in deltas if not r}))
        return len(keys)


async def roll_up_all(infra: Infra) -> int:
    """Rounds until nothing is pending (tests, benchmarks, a catch-up)."""
    total = 0
    while True:
        n = await roll_up_pending(infra)
        total += n
        if n == 0:
            return total


async def sweep_retention(infra: Infra, now: datetime | None = None) -> int:
    cfg = infra.settings.analytics
    now = now or utcnow()
    async with infra.transaction() as session:
        return await repository.sweep(
            session,
            raw_before=now - timedelta(days=cfg.raw_retention_days),
            rollups_before=now - timedelta(days=cfg.rollup_retention_days),
        )


async def add_traffic(infra: Infra, rows: list[tuple[str, str, datetime, int, int]]) -> None:
    """Bytes and requests served (from the stream log) into the hour's rollups."""
    if rows:
        async with infra.transaction() as session:
            await repository.add_traffic(session, rows)
