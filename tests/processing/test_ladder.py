from __future__ import annotations

import pytest

from streamcore.processing.commands import hls_ladder_args
from streamcore.processing.ladder import gop_frames, output_fps, plan_ladder
from streamcore.processing.probe import MediaInfo


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


def test_one_process_args_split_every_rung(tmp_path: object) -> None:
    from pathlib import Path

    src = info(1280, 720)
    rungs = plan_ladder(src)
    args = hls_ladder_args(Path("/in/source"), Path("/out"), src, rungs)
    graph = args[args.index("-filter_complex") + 1]
    assert graph.startswith("[0:v:0]fps=30,split=4")
    assert args[args.index("-var_stream_map") + 1] == (
        "v:0,a:0,name:720p v:1,a:1,name:480p v:2,a:2,name:360p v:3,a:3,name:240p"
    )
    assert args[args.index("-hls_time") + 1] == "4"
    assert args[args.index("-protocol_whitelist") + 1] == "file,pipe"
    # The demuxer is forced to what the probe saw.
    assert args[args.index("-f") + 1] == "mov"
    assert "-xerror" in args
