from __future__ import annotations

from streamcore.media.probe import MediaInfo
from streamcore.media.storyboard import StoryboardPlan, plan_storyboard, storyboard_vtt


def video(duration: float, w: int = 1280, h: int = 720) -> MediaInfo:
    return MediaInfo("mpegts", duration, None, w, h, 30.0, "h264", "aac")


def test_short_video_one_tile_a_second() -> None:
    plan = plan_storyboard(video(7.5))
    assert plan == StoryboardPlan(
        interval=1.0, tiles=8, columns=8, rows=1, tile_width=160, tile_height=90
    )


def test_long_video_caps_the_tiles() -> None:
    plan = plan_storyboard(video(3600.0))
    assert plan == StoryboardPlan(36, 100, 10, 10, 160, 90)
    plan = plan_storyboard(video(250.0))
    assert (plan.interval, plan.tiles, plan.columns, plan.rows) == (3, 84, 10, 9)


def test_tiny_and_portrait_sources() -> None:
    assert plan_storyboard(video(0.4)) == StoryboardPlan(1.0, 1, 1, 1, 160, 90)
    assert plan_storyboard(video(10.0, 720, 1280)).tile_height == 284
    assert plan_storyboard(video(10.0, 4000, 10)).tile_height == 2  # never zero


def test_vtt_cues_point_into_the_sprite() -> None:
    plan = StoryboardPlan(interval=3, tiles=12, columns=10, rows=2, tile_width=160, tile_height=90)
    lines = storyboard_vtt(plan, 34.5).split("\n")
    assert lines[:5] == [
        "WEBVTT",
        "",
        "00:00:00.000 --> 00:00:03.000",
        "storyboard.jpg#xywh=0,0,160,90",
        "",
    ]
    # Tile 11 starts the second row; the last cue ends at the duration.
    text = "\n".join(lines)
    assert "00:00:30.000 --> 00:00:33.000\nstoryboard.jpg#xywh=0,90,160,90\n" in text
    assert text.endswith("00:00:33.000 --> 00:00:34.500\nstoryboard.jpg#xywh=160,90,160,90\n")
    assert text.count(" --> ") == 12


def test_vtt_stops_at_the_duration_and_counts_hours() -> None:
    plan = StoryboardPlan(
        interval=36, tiles=100, columns=10, rows=10, tile_width=160, tile_height=90
    )
    text = storyboard_vtt(plan, 3700.0)
    assert text.count(" --> ") == 100
    assert "00:59:24.000 --> 01:00:00.000\nstoryboard.jpg#xywh=1440,810,160,90" in text
    short = storyboard_vtt(plan, 50.0)
    assert short.count(" --> ") == 2
    assert "00:00:36.000 --> 00:00:50.000" in short
