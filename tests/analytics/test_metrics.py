"""The metric definitions on hand-made views: watch time without pauses, stalls,
exits before start, failures, duplicates and disorder, the histogram's percentiles."""

from __future__ import annotations

from streamcore.analytics.metrics import (
    MAX_PLAYING_GAP_MS,
    Event,
    bucket_of,
    percentile,
    roll_up,
    summarize,
)
from streamcore.models.analytics import STARTUP_BUCKETS_MS


def ev(kind: str, at: int, rendition: str = "720p", viewer: int = 7) -> Event:
    return Event(kind, at, at / 1000, rendition, 1000, viewer)


def test_paused_time_is_not_watch_time_and_stalls_are() -> None:
    s = summarize(
        [
            ev("view_start", 0), ev("first_frame", 500), ev("pause", 4500),
            ev("playing", 60_000), ev("rebuffer_start", 62_000), ev("rebuffer_end", 63_000),
            ev("rendition_change", 64_000, "480p"), ev("view_end", 66_000, "480p"),
        ]
    )  # fmt: skip
    assert s.startup_ms == 500
    assert s.watch_ms == 4000 + 6000
    assert (s.rebuffer_count, s.rebuffer_ms) == (1, 1000)
    assert s.renditions["720p"] == [4000 + 4000, 1000, 1]
    assert s.renditions["480p"][0] == 2000
    assert s.ended
    assert not s.failed
    assert not s.exited_before_start


def test_order_and_duplicates_do_not_change_a_view() -> None:
    events = [ev("view_start", 0), ev("first_frame", 900), ev("heartbeat", 10_900),
              ev("view_end", 12_900)]  # fmt: skip
    once = summarize(events)
    assert summarize([*reversed(events), events[2], events[0]]) == once
    assert once.watch_ms == 12_000


def test_exits_failures_and_lost_events() -> None:
    gave_up = summarize([ev("view_start", 0), ev("view_end", 8000)])
    assert gave_up.exited_before_start
    assert gave_up.startup_ms is None
    assert gave_up.watch_ms == 0
    broke = summarize([ev("view_start", 0), ev("error", 3000), ev("view_end", 4000)])
    assert broke.failed
    assert not broke.exited_before_start
    # No view_start: the view starts at its first event; no startup time.
    late = summarize([ev("heartbeat", 10_000), ev("heartbeat", 20_000)])
    assert late.started_at_ms == 10_000
    assert late.startup_ms is None
    assert late.watch_ms == 10_000
    # A tab gone silent for an hour counts no more than the gap limit.
    gone = summarize([ev("view_start", 0), ev("first_frame", 0), ev("heartbeat", 3_600_000)])
    assert gone.watch_ms == MAX_PLAYING_GAP_MS


def test_percentiles_of_the_startup_histogram() -> None:
    buckets = [0] * (len(STARTUP_BUCKETS_MS) + 1)
    for ms in [300] * 90 + [4000] * 10:
        buckets[bucket_of(ms)] += 1
    p50 = percentile(buckets, 0.5)
    p95 = percentile(buckets, 0.95)
    assert p50 is not None
    assert 200 <= p50 <= 300
    assert p95 is not None
    assert 3000 <= p95 <= 4000
    assert percentile([0] * len(buckets), 0.5) is None


def test_roll_up_counts_distinct_viewers_and_renditions() -> None:
    a = summarize([ev("view_start", 0, viewer=1), ev("first_frame", 100, viewer=1),
                   ev("view_end", 5100, viewer=1)])  # fmt: skip
    b = summarize([ev("view_start", 0, "1080p", viewer=1), ev("view_end", 100, "1080p", viewer=1)])
    rolled = roll_up([a, b])
    assert (rolled[""].views, rolled[""].viewers, rolled[""].exits_before_start) == (2, 1, 1)
    assert rolled["720p"].watch_ms == 5000
    assert rolled[""].startup[bucket_of(100)] == 1
