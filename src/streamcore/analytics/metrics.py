"""The metric definitions, as pure functions: a view's events in, its summary out;
summaries of an hour in, a rollup out; histogram buckets in, percentiles out.

Definitions follow Mux Data's published metric definitions:

- **view**: one playback attempt, from the play request (`view_start`) on. Every view
  id is one view, whether or not it ever showed a frame.
- **unique viewers**: distinct viewer ids (stored as keyed hashes) among the views.
- **startup time** (Mux "Video Startup Time"): from the play request (`view_start`) to
  the first frame shown (`first_frame`). Views without a first frame have none.
- **watch time**: the time spent playing, rebuffering included (paused time is not;
  Mux also counts startup and seeking, which this player reports as instants). Measured
  on the player's wall clock between consecutive events: the stretch after an event
  counts while the player was playing or rebuffering. A stretch longer than
  MAX_PLAYING_GAP_MS (playing, where heartbeats come every 10 s) or
  MAX_REBUFFER_GAP_MS (rebuffering) is cut there: events were lost, the tab was gone.
- **rebuffer count / duration**: stalls after the first frame (`rebuffer_start` ..
  `rebuffer_end`); the initial load is startup, not rebuffering.
- **rebuffer percentage**: rebuffer duration / watch time.
- **playback failure**: a view with an `error` event; **failure percentage** = failed
  views / views.
- **exit before video start**: a view that ended (`view_end`) with no first frame and
  no error (the viewer gave up waiting).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from streamcore.models.analytics import STARTUP_BUCKETS_MS

EVENT_TYPES = frozenset(
    {
        "view_start", "first_frame", "playing", "pause", "seek", "rebuffer_start",
        "rebuffer_end", "rendition_change", "error", "heartbeat", "view_end",
    }
)  # fmt: skip
MAX_PLAYING_GAP_MS = 30_000
MAX_REBUFFER_GAP_MS = 300_000

# Event type -> the state the player is in after it (None: unchanged).
_NEXT_STATE = {
    "view_start": "loading",
    "first_frame": "playing",
    "playing": "playing",
    "rebuffer_end": "playing",
    "pause": "paused",
    "rebuffer_start": "rebuffering",
    "error": "ended",
    "view_end": "ended",
}


@dataclass(frozen=True)
class Event:
    type: str
    at: int  # epoch ms, the player's clock
    player_time: float
    rendition: str
    bitrate: int
    viewer_hash: int
    duration_ms: int | None = None
    error_code: str | None = None


@dataclass
class ViewSummary:
    viewer_hash: int
    started_at_ms: int
    startup_ms: int | None = None
    watch_ms: int = 0
    rebuffer_count: int = 0
    rebuffer_ms: int = 0
    failed: bool = False
    exited_before_start: bool = False
    ended: bool = False
    events: int = 0
    # rendition -> [watch_ms, rebuffer_ms, rebuffer_count]
    renditions: dict[str, list[int]] = field(default_factory=dict)

    @property
    def started_at(self) -> datetime:
        return datetime.fromtimestamp(self.started_at_ms / 1000, UTC)

    def _at(self, rendition: str) -> list[int]:
        return self.renditions.setdefault(rendition, [0, 0, 0])


def _accrue(summary: ViewSummary, state: str, rendition: str, span: int) -> None:
    if state == "playing":
        span = min(span, MAX_PLAYING_GAP_MS)
        summary.watch_ms += span
        summary._at(rendition)[0] += span
    elif state == "rebuffering":
        span = min(span, MAX_REBUFFER_GAP_MS)
        summary.watch_ms += span
        summary.rebuffer_ms += span
        r = summary._at(rendition)
        r[0] += span
        r[1] += span


def _next_state(state: str, kind: str, started: bool) -> str:
    if state == "ended":
        return state
    if kind == "heartbeat":
        # Heartbeats come while playing: one after a lost `playing` still says so.
        return "playing" if state in ("loading", "paused") and started else state
    nxt = _NEXT_STATE.get(kind)
    if nxt is None or (nxt == "playing" and not started):
        return state
    return nxt


def summarize(events: Sequence[Event]) -> ViewSummary:
    """The summary of one view from all its events (in any order: they are sorted by
    the player's clock, ties kept in arrival order; exact duplicates dropped)."""
    # Exact duplicates (a beacon sent twice, a record redelivered) count once.
    ordered = sorted(dict.fromkeys(events), key=lambda e: e.at)
    first = ordered[0]
    start = next((e for e in ordered if e.type == "view_start"), first)
    summary = ViewSummary(viewer_hash=start.viewer_hash, started_at_ms=start.at)
    state, rendition, last_at, started = "loading", first.rendition, first.at, False
    for event in ordered:
        summary.events += 1
        if state != "ended":
            _accrue(summary, state, rendition, event.at - last_at)
        last_at = event.at
        if event.rendition:
            rendition = event.rendition
        kind = event.type
        if kind == "first_frame" and not started:
            started = True
            if start.type == "view_start":
                summary.startup_ms = max(0, event.at - start.at)
        elif kind == "rebuffer_start" and started and state != "rebuffering":
            summary.rebuffer_count += 1
            summary._at(rendition)[2] += 1
        elif kind == "error":
            summary.failed = True
        elif kind == "view_end":
            summary.ended = True
        elif kind in ("heartbeat", "playing") and state == "loading":
            started = True  # a lost first_frame: it plays, with no startup time
        state = _next_state(state, kind, started)
    summary.exited_before_start = summary.ended and not started and not summary.failed
    return summary


def bucket_of(startup_ms: int) -> int:
    """The index of the startup-time bucket that holds startup_ms."""
    return bisect.bisect_left(STARTUP_BUCKETS_MS, startup_ms)


def percentile(buckets: Sequence[int], q: float) -> float | None:
    """The q-quantile (0..1) of a bucketed histogram, interpolated linearly inside its
    bucket (the open last bucket answers its lower bound); None when it is empty."""
    total = sum(buckets)
    if total <= 0:
        return None
    rank = q * total
    seen = 0.0
    for i, count in enumerate(buckets):
        if count and seen + count >= rank:
            lower = STARTUP_BUCKETS_MS[i - 1] if i > 0 else 0
            if i >= len(STARTUP_BUCKETS_MS):
                return float(lower)
            upper = STARTUP_BUCKETS_MS[i]
            return lower + (upper - lower) * max(0.0, rank - seen) / count
        seen += count
    return float(STARTUP_BUCKETS_MS[-1])


@dataclass
class Rollup:
    """What one (video, hour, rendition) row holds besides the traffic counters."""

    views: int = 0
    viewers: int = 0
    watch_ms: int = 0
    startup_count: int = 0
    startup_ms_sum: int = 0
    rebuffer_count: int = 0
    rebuffer_ms: int = 0
    failures: int = 0
    exits_before_start: int = 0
    startup: list[int] = field(default_factory=lambda: [0] * (len(STARTUP_BUCKETS_MS) + 1))


def roll_up(summaries: Iterable[ViewSummary]) -> dict[str, Rollup]:
    """Rollups of the views of one video-hour: "" (the totals) and one per rendition."""
    out: dict[str, Rollup] = {"": Rollup()}
    viewers: dict[str, set[int]] = {"": set()}
    for s in summaries:
        total = out[""]
        total.views += 1
        viewers[""].add(s.viewer_hash)
        total.watch_ms += s.watch_ms
        total.rebuffer_count += s.rebuffer_count
        total.rebuffer_ms += s.rebuffer_ms
        total.failures += int(s.failed)
        total.exits_before_start += int(s.exited_before_start)
        if s.startup_ms is not None:
            total.startup_count += 1
            total.startup_ms_sum += s.startup_ms
            total.startup[bucket_of(s.startup_ms)] += 1
        for name, (watch, rebuffer, count) in s.renditions.items():
            if not name:
                continue
            r = out.setdefault(name, Rollup())
            viewers.setdefault(name, set()).add(s.viewer_hash)
            r.views += 1
            r.watch_ms += watch
            r.rebuffer_ms += rebuffer
            r.rebuffer_count += count
    for name, rollup in out.items():
        rollup.viewers = len(viewers.get(name, ()))
    return out
