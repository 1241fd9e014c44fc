from __future__ import annotations

from dataclasses import replace

import pytest

from streamcore.media.ladder import (
    gop_frames,
    needs_fps_filter,
    output_fps,
    plan_ladder,
    whole_frame_gops,
)
from streamcore.media.probe import MediaInfo


def info(w: int | None, h: int | None, fps: float | None = 30.0, audio: bool = True) -> MediaInfo:
    return MediaInfo(
        format_name="mov,mp4,m4a,3gp,3g2,mj2",
        duration=10.0,
        bitrate=None,
        width=w,
        height=h,
        frame_rate=fps,
        video_codec="h264" if w else None,
        audio_codec="aac" if audio else None,
    )


@pytest.mark.parametrize(
    ("w", "h", "expected"),
    [
        (1920, 1080, ["1080p", "720p", "480p", "360p", "240p"]),
        (1280, 720, ["720p", "480p", "360p", "240p"]),
        (640, 360, ["360p", "240p"]),
        (1080, 1920, ["1080p", "720p", "480p", "360p", "240p"]),  # portrait: short side
        (320, 180, ["180p"]),  # below the ladder: one rendition at source size
    ],
)
def test_rungs_at_or_below_source(w: int, h: int, expected: list[str]) -> None:
    assert [r.name for r in plan_ladder(info(w, h))] == expected


def test_dimensions_even_and_aspect_kept() -> None:
    for r in plan_ladder(info(1918, 1078)):
        assert r.width % 2 == 0
        assert r.height % 2 == 0
        assert r.width / r.height == pytest.approx(1918 / 1078, rel=0.02)
    portrait = plan_ladder(info(720, 1280))
    assert (portrait[0].width, portrait[0].height) == (720, 1280)


def test_bitrates_capped_by_source() -> None:
    low = MediaInfo("mov", 10.0, 728_000, 1280, 720, 30.0, "h264", "aac")
    assert [r.video_kbps for r in plan_ladder(low)] == [600, 600, 600, 400]
    assert [r.video_kbps for r in plan_ladder(info(1280, 720))] == [2800, 1400, 800, 400]


def test_audio_only_plans_one_audio_rendition() -> None:
    (r,) = plan_ladder(info(None, None))
    assert r.name == "audio"
    assert r.audio_kbps > 0


def test_frame_rate_capped_and_gop_two_seconds() -> None:
    assert output_fps(info(1280, 720, fps=120)) == 60
    assert output_fps(info(1280, 720, fps=30)) == 30  # always constant-rate output
    assert output_fps(info(1280, 720, fps=30000 / 1001)) == 29.97
    assert gop_frames(info(1280, 720, fps=30), 4) == 60
    assert gop_frames(info(1280, 720, fps=25), 4) == 50
    assert gop_frames(info(1280, 720, fps=120), 4) == 120


def test_constant_rate_sources_keep_their_timestamps() -> None:
    cfr = replace(info(1280, 720, fps=30), variable_frame_rate=False)
    assert not needs_fps_filter(cfr)
    assert needs_fps_filter(replace(cfr, variable_frame_rate=True))
    assert needs_fps_filter(replace(cfr, variable_frame_rate=None))  # not known
    assert needs_fps_filter(replace(cfr, frame_rate=120.0))  # capped at 60
    assert not needs_fps_filter(info(None, None, fps=None))


def test_whole_frame_gops() -> None:
    cfr = replace(info(1280, 720, fps=30), variable_frame_rate=False)
    assert whole_frame_gops(cfr, 4)
    assert whole_frame_gops(replace(cfr, frame_rate=25.0), 4)
    assert not whole_frame_gops(replace(cfr, frame_rate=30000 / 1001), 4)
    # Retimed to 29.97 (rounded), still not whole; retimed to 60, whole.
    assert not whole_frame_gops(replace(cfr, frame_rate=30000 / 1001, variable_frame_rate=True), 4)
    assert whole_frame_gops(replace(cfr, frame_rate=120.0), 4)
