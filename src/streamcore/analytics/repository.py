"""All SQL of analytics: raw events, pending views, view summaries, rollups, retention."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.analytics.metrics import Event, Rollup
from streamcore.db.base import utcnow
from streamcore.models import (
    AnalyticsEvent,
    AnalyticsPending,
    AnalyticsView,
    Asset,
    StreamLog,
    analytics_rollups,
)
from streamcore.models.analytics import STARTUP_COLUMNS

ViewKey = tuple[str, str]  # (video_id, view_id)
HourKey = tuple[str, datetime]  # (video_id, hour)
# Rows per statement: SQLite allows 32,766 bound parameters.
CHUNK = 500

_EVENTS = cast(Table, AnalyticsEvent.__table__)
_PENDING = cast(Table, AnalyticsPending.__table__)
_VIEWS = cast(Table, AnalyticsView.__table__)
_STREAM_LOGS = cast(Table, StreamLog.__table__)


def _insert(session: AsyncSession, table: Table) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _chunks(rows: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


EVENT_COLUMNS = (
    "video_id", "view_id", "viewer_hash", "type", "at", "player_time", "rendition", "bitrate",
    "duration_ms", "error_code",
)  # fmt: skip


def _insert_events_sql(dialect: str) -> str:
    """The driver's own INSERT (executemany of tuples skips SQLAlchemy's per-row bind
    processing, which cost ~5x the insert itself here)."""
    names = (*EVENT_COLUMNS, "received_at")
    marks = (
        ", ".join(f"${i}" for i in range(1, len(names) + 1))
        if dialect == "postgresql"
        else ", ".join("?" * len(names))
    )
    return f"INSERT INTO analytics_events ({', '.join(names)}) VALUES ({marks})"


async def add_events(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """One executemany INSERT of the raw events, and their views marked pending."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    now: Any = utcnow()
    if dialect != "postgresql":
        # How SQLAlchemy keeps a UTCDateTime on SQLite.
        now = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    data = [(*(r[c] for c in EVENT_COLUMNS), now) for r in rows]
    conn = await session.connection()
    await conn.exec_driver_sql(_insert_events_sql(dialect), data)
    await mark_pending(session, {(r["video_id"], r["view_id"]) for r in rows})


async def mark_pending(session: AsyncSession, keys: Iterable[ViewKey]) -> None:
    ordered = sorted(keys)
    for part in _chunks(ordered):
        stmt = _insert(session, _PENDING).on_conflict_do_nothing()
        await session.execute(stmt, [{"video_id": v, "view_id": w} for v, w in part])


async def claim_pending(session: AsyncSession, limit: int) -> list[ViewKey]:
    stmt = select(_PENDING.c.video_id, _PENDING.c.view_id).limit(limit)
    keys = [(str(v), str(w)) for v, w in (await session.execute(stmt)).all()]
    for part in _chunks(keys):
        key = tuple_(_PENDING.c.video_id, _PENDING.c.view_id)
        await session.execute(delete(_PENDING).where(key.in_(part)))
    return keys


async def events_of(session: AsyncSession, keys: Sequence[ViewKey]) -> dict[ViewKey, list[Event]]:
    out: dict[ViewKey, list[Event]] = {}
    c = _EVENTS.c
    cols = (c.video_id, c.view_id, c.type, c.at, c.player_time, c.rendition, c.bitrate,
            c.viewer_hash, c.duration_ms, c.error_code)  # fmt: skip
    for part in _chunks(keys):
        stmt = select(*cols).where(tuple_(c.video_id, c.view_id).in_(part)).order_by(c.at, c.id)
        for row in (await session.execute(stmt)).all():
            out.setdefault((row[0], row[1]), []).append(Event(*row[2:]))  # type: ignore[call-arg]
    return out


async def projects_of(session: AsyncSession, video_ids: Iterable[str]) -> dict[str, str]:
    ids = sorted(set(video_ids))
    out: dict[str, str] = {}
    for part in _chunks(ids):
        stmt = select(Asset.id, Asset.project_id).where(Asset.id.in_(part))
        out.update({str(a): str(p) for a, p in (await session.execute(stmt)).all()})
    return out


async def views_of(session: AsyncSession, keys: Sequence[ViewKey]) -> dict[ViewKey, AnalyticsView]:
    """The stored summaries of these views (those that have one)."""
    out: dict[ViewKey, AnalyticsView] = {}
    v = AnalyticsView
    for part in _chunks(keys):
        stmt = select(v).where(tuple_(v.video_id, v.view_id).in_(part))
        out.update(((x.video_id, x.view_id), x) for x in (await session.execute(stmt)).scalars())
    return out


async def upsert_views(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    for part in _chunks(rows, 200):
        stmt = _insert(session, _VIEWS)
        fields = [k for k in part[0] if k not in ("video_id", "view_id")]
        stmt = stmt.on_conflict_do_update(
            index_elements=["video_id", "view_id"],
            set_={k: getattr(stmt.excluded, k) for k in fields},
        )
        await session.execute(stmt, list(part))


RollupKey = tuple[str, datetime, str]  # (video, hour, rendition)


def rollup_values(rollup: Rollup) -> dict[str, int]:
    values = {
        "views": rollup.views, "viewers": rollup.viewers, "watch_ms": rollup.watch_ms,
        "startup_count": rollup.startup_count, "startup_ms_sum": rollup.startup_ms_sum,
        "rebuffer_count": rollup.rebuffer_count, "rebuffer_ms": rollup.rebuffer_ms,
        "failures": rollup.failures, "exits_before_start": rollup.exits_before_start,
    }  # fmt: skip
    values.update(zip(STARTUP_COLUMNS, rollup.startup, strict=True))
    return values


async def add_rollups(
    session: AsyncSession, projects: dict[str, str], deltas: dict[RollupKey, dict[str, int]]
) -> None:
    """Add the deltas of the view columns to the rows (created at 0 when missing)."""
    now = utcnow()
    rows = [
        {"video_id": v, "hour": h, "rendition": r, "project_id": projects[v],
         "day": h.replace(hour=0), "updated_at": now, **delta}
        for (v, h, r), delta in sorted(deltas.items())
    ]  # fmt: skip
    t = analytics_rollups
    fields = list(rollup_values(Rollup()))
    fields.remove("viewers")
    for part in _chunks(rows, 200):
        stmt = _insert(session, t)
        set_: dict[str, Any] = {k: getattr(t.c, k) + getattr(stmt.excluded, k) for k in fields}
        set_["updated_at"] = stmt.excluded.updated_at
        stmt = stmt.on_conflict_do_update(
            index_elements=["video_id", "hour", "rendition"], set_=set_
        )
        await session.execute(stmt, [{k: r.get(k, 0) for k in (*r, *fields)} for r in part])


async def count_viewers(session: AsyncSession, hours: Sequence[HourKey]) -> None:
    """The totals rows' distinct viewers of each (video, hour), from the view summaries."""
    v = AnalyticsView
    t = analytics_rollups
    for part in _chunks(hours):
        stmt = (
            select(v.video_id, v.hour, func.count(func.distinct(v.viewer_hash)))
            .where(tuple_(v.video_id, v.hour).in_(part))
            .group_by(v.video_id, v.hour)
        )
        for video, hour, n in (await session.execute(stmt)).all():
            await session.execute(
                update(t)
                .where(t.c.video_id == video, t.c.hour == hour, t.c.rendition == "")
                .values(viewers=int(n))
            )


async def add_traffic(
    session: AsyncSession, rows: Sequence[tuple[str, str, datetime, int, int]]
) -> None:
    """(video, rendition, hour, requests, bytes) added to the rendition's row and the
    video's totals row of that hour. Unknown videos are skipped."""
    projects = await projects_of(session, (r[0] for r in rows))
    merged: dict[tuple[str, datetime, str], list[int]] = {}
    for video, rendition, hour, requests, sent in rows:
        for name in {rendition, ""}:
            acc = merged.setdefault((video, hour, name), [0, 0])
            acc[0] += requests
            acc[1] += sent
    values = [
        {"video_id": v, "hour": h, "rendition": r, "project_id": projects[v],
         "day": h.replace(hour=0), "segment_requests": n, "bytes_served": b,
         "updated_at": utcnow()}
        for (v, h, r), (n, b) in sorted(merged.items()) if v in projects
    ]  # fmt: skip
    if not values:
        return
    t = analytics_rollups
    for part in _chunks(values, 200):
        stmt = _insert(session, t)
        stmt = stmt.on_conflict_do_update(
            index_elements=["video_id", "hour", "rendition"],
            set_={
                "segment_requests": t.c.segment_requests + stmt.excluded.segment_requests,
                "bytes_served": t.c.bytes_served + stmt.excluded.bytes_served,
                "updated_at": stmt.excluded.updated_at,
            },
        )
        await session.execute(stmt, list(part))


async def sweep(session: AsyncSession, raw_before: datetime, rollups_before: datetime) -> int:
    """Delete raw events, views and rollups past their retention; rows deleted."""
    deleted = 0
    for stmt in (
        delete(_EVENTS).where(_EVENTS.c.received_at < raw_before),
        delete(_VIEWS).where(_VIEWS.c.started_at < rollups_before),
        delete(analytics_rollups).where(analytics_rollups.c.hour < rollups_before),
    ):
        result = await session.execute(stmt)
        deleted += int(getattr(result, "rowcount", 0) or 0)
    return deleted


async def pending_count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(_PENDING))).scalar_one())


async def add_stream_logs(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Stream-log view rows that came through the analytics topic."""
    for part in _chunks(rows):
        await session.execute(_STREAM_LOGS.insert(), list(part))
