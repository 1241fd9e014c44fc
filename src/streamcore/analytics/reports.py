"""`GET /analytics` and `GET /analytics/uploads`: sums over the rollups (and distinct
viewers over the view summaries, since distinct counts do not add up across hours),
and counts over the upload log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.analytics.metrics import percentile
from streamcore.analytics.schemas import (
    AnalyticsGroup,
    AnalyticsMetrics,
    AnalyticsPoint,
    GroupBy,
    Interval,
    UploadCount,
    UploadFailureCount,
)
from streamcore.models import AnalyticsView, UploadLog, analytics_rollups
from streamcore.models.analytics import STARTUP_COLUMNS

SUMS = (
    "views", "watch_ms", "startup_count", "startup_ms_sum", "rebuffer_count", "rebuffer_ms",
    "failures", "exits_before_start", "bytes_served", "segment_requests", *STARTUP_COLUMNS,
)  # fmt: skip
# Upload log results that are not failures, and the outcome each stands for.
UPLOAD_OUTCOMES = {"ok": "succeeded", "issued": "issued", "terminated": "cancelled"}

R = analytics_rollups.c


@dataclass(frozen=True)
class Scope:
    """Whose numbers: a project, or one video; over [start, end)."""

    project_id: str | None
    video_id: str | None
    start: datetime
    end: datetime


def _rollup_filter(scope: Scope) -> ColumnElement[bool]:
    owner = R.video_id == scope.video_id if scope.video_id else R.project_id == scope.project_id
    return and_(owner, R.hour >= scope.start, R.hour < scope.end)


def _view_filter(scope: Scope) -> ColumnElement[bool]:
    v = AnalyticsView
    owner = v.video_id == scope.video_id if scope.video_id else v.project_id == scope.project_id
    return and_(owner, v.hour >= scope.start, v.hour < scope.end)


def _sums() -> list[Any]:
    return [func.coalesce(func.sum(getattr(R, name)), 0) for name in SUMS]


def _metrics(sums: Sequence[Any], viewers: int | None) -> dict[str, Any]:
    s = dict(zip(SUMS, (int(x or 0) for x in sums), strict=True))
    buckets = [s[c] for c in STARTUP_COLUMNS]
    watch, rebuffer, views = s["watch_ms"], s["rebuffer_ms"], s["views"]
    return {
        "views": views,
        "unique_viewers": viewers,
        "watch_time_seconds": watch / 1000,
        "startup_time_p50_ms": percentile(buckets, 0.5),
        "startup_time_p95_ms": percentile(buckets, 0.95),
        "startup_time_mean_ms": (
            s["startup_ms_sum"] / s["startup_count"] if s["startup_count"] else None
        ),
        "rebuffer_count": s["rebuffer_count"],
        "rebuffer_seconds": rebuffer / 1000,
        "rebuffer_percentage": 100 * rebuffer / watch if watch else None,
        "failures": s["failures"],
        "failure_percentage": 100 * s["failures"] / views if views else None,
        "exits_before_start": s["exits_before_start"],
        "bytes_served": s["bytes_served"],
        "segment_requests": s["segment_requests"],
    }


async def _viewers(session: AsyncSession, scope: Scope, key: Any | None) -> dict[Any, int]:
    distinct = func.count(func.distinct(AnalyticsView.viewer_hash))
    cols = [distinct] if key is None else [key, distinct]
    stmt = select(*cols).where(_view_filter(scope))
    if key is not None:
        stmt = stmt.group_by(key)
    rows = (await session.execute(stmt)).all()
    if key is None:
        return {None: int(rows[0][0])}
    return {_norm(r[0]): int(r[1]) for r in rows}


def _norm(value: Any) -> Any:
    """Datetimes read back the same way on both backends (SQLite keeps no zone)."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


async def series_and_totals(
    session: AsyncSession, scope: Scope, interval: Interval
) -> tuple[list[AnalyticsPoint], AnalyticsMetrics]:
    """The series per interval and the totals, from one scan of the rollups (every
    rollup column adds up; only distinct viewers need queries of their own)."""
    col = R.hour if interval is Interval.hour else R.day
    stmt = (
        select(col, *_sums())
        .where(_rollup_filter(scope), R.rendition == "")
        .group_by(col)
        .order_by(col)
    )
    rows = (await session.execute(stmt)).all()
    vkey = AnalyticsView.hour if interval is Interval.hour else AnalyticsView.day
    viewers = await _viewers(session, scope, vkey)
    out = []
    total = [0] * len(SUMS)
    for row in rows:
        start = _norm(row[0])
        out.append(AnalyticsPoint(start=start, **_metrics(row[1:], viewers.get(start, 0))))
        total = [a + int(b or 0) for a, b in zip(total, row[1:], strict=True)]
    everyone = (await _viewers(session, scope, None))[None]
    return out, AnalyticsMetrics(**_metrics(total, everyone))


async def groups(session: AsyncSession, scope: Scope, group_by: GroupBy) -> list[AnalyticsGroup]:
    if group_by is GroupBy.rendition:
        stmt = (
            select(R.rendition, *_sums())
            .where(_rollup_filter(scope), R.rendition != "")
            .group_by(R.rendition)
        )
        rows = (await session.execute(stmt)).all()
        found = [AnalyticsGroup(key=str(r[0]), **_metrics(r[1:], None)) for r in rows]
        return sorted(found, key=lambda g: -g.watch_time_seconds)
    col, vkey = (
        (R.video_id, AnalyticsView.video_id)
        if group_by is GroupBy.video
        else (R.day, AnalyticsView.day)
    )
    stmt = select(col, *_sums()).where(_rollup_filter(scope), R.rendition == "").group_by(col)
    rows = (await session.execute(stmt)).all()
    viewers = await _viewers(session, scope, vkey)
    out = []
    for row in rows:
        key = _norm(row[0])
        label = key.isoformat() if isinstance(key, datetime) else str(key)
        out.append(AnalyticsGroup(key=label, **_metrics(row[1:], viewers.get(key, 0))))
    if group_by is GroupBy.video:
        return sorted(out, key=lambda g: (-g.views, -g.watch_time_seconds, g.key))
    return sorted(out, key=lambda g: g.key)


@dataclass(frozen=True)
class UploadNumbers:
    by_method: list[UploadCount]
    failures_by_class: list[UploadFailureCount]


async def uploads(session: AsyncSession, scope: Scope) -> UploadNumbers:
    u = UploadLog
    owner = u.asset_id == scope.video_id if scope.video_id else u.project_id == scope.project_id
    where = and_(owner, u.created_at >= scope.start, u.created_at < scope.end)
    size = func.coalesce(func.sum(case((u.result == "ok", u.size_bytes), else_=0)), 0)
    stmt = select(u.method, u.result, func.count(), size).where(where).group_by(u.method, u.result)
    counts: dict[tuple[str, str], list[int]] = {}
    failures: dict[str, int] = {}
    for method, result, n, sent in (await session.execute(stmt)).all():
        outcome = UPLOAD_OUTCOMES.get(str(result), "failed")
        acc = counts.setdefault((str(method), outcome), [0, 0])
        acc[0] += int(n)
        acc[1] += int(sent or 0)
        if outcome == "failed":
            failures[str(result)] = failures.get(str(result), 0) + int(n)
    return UploadNumbers(
        [UploadCount(method=m, outcome=o, uploads=n, bytes=b)
         for (m, o), (n, b) in sorted(counts.items())],
        [UploadFailureCount(error_class=c, uploads=n)
         for c, n in sorted(failures.items(), key=lambda kv: (-kv[1], kv[0]))],
    )  # fmt: skip
