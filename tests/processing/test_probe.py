from __future__ import annotations

from typing import Any

import pytest

from streamcore.processing.errors import LimitExceeded, ProbeFailed, UnsupportedMedia
from streamcore.processing.probe import interpret_probe, looks_like_text_playlist
from streamcore.processing.progress import progress_fraction

LIMITS: dict[str, Any] = {"max_duration": 3600, "max_width": 3840, "max_height": 2160}


def probe(
    fmt: str = "mov,mp4,m4a,3gp,3g2,mj2", duration: str = "10.0", **video: Any
) -> dict[str, Any]:
    v = {"codec_type": "video", "codec_name": "h264", "width": 1280, "height": 720,
         "avg_frame_rate": "30000/1001"} | video  # fmt: skip
    return {
        "format": {"format_name": fmt, "duration": duration, "bit_rate": "800000"},
        "streams": [v, {"codec_type": "audio", "codec_name": "aac"}],
    }


def test_reads_a_normal_file() -> None:
    info = interpret_probe(probe(), **LIMITS)
    assert (info.width, info.height, info.video_codec, info.audio_codec) == (
        1280,
        720,
        "h264",
        "aac",
    )
    assert info.frame_rate == pytest.approx(29.97, abs=0.01)
    assert info.demuxer == "mov"
    assert info.bitrate == 800000


@pytest.mark.parametrize("fmt", ["hls", "concat", "image2", "tty", "lavfi"])
def test_refuses_containers_that_name_other_files(fmt: str) -> None:
    with pytest.raises(UnsupportedMedia):
        interpret_probe(probe(fmt=fmt), **LIMITS)


def test_refuses_empty_probe_and_still_images() -> None:
    with pytest.raises(ProbeFailed):
        interpret_probe({}, **LIMITS)
    only_cover = {"format": {"format_name": "mp3", "duration": "3"},
                  "streams": [{"codec_type": "video", "codec_name": "mjpeg"}]}  # fmt: skip
    with pytest.raises(UnsupportedMedia):
        interpret_probe(only_cover, **LIMITS)


def test_limits() -> None:
    with pytest.raises(LimitExceeded):
        interpret_probe(probe(duration="7200"), **LIMITS)
    with pytest.raises(LimitExceeded):
        interpret_probe(probe(width=7680, height=4320), **LIMITS)


def test_playlist_magic() -> None:
    assert looks_like_text_playlist(b"#EXTM3U\n#EXT-X-VERSION:3")
    assert looks_like_text_playlist(b"\xef\xbb\xbf  #EXTM3U")
    assert looks_like_text_playlist(b"ffconcat version 1.0\nfile '/etc/passwd'")
    assert not looks_like_text_playlist(b"\x00\x00\x00\x20ftypisom")


def test_progress_fraction() -> None:
    assert progress_fraction({"out_time_us": "5000000", "progress": "continue"}, 10) == 0.5
    assert progress_fraction({"out_time_us": "N/A"}, 10) is None
    assert progress_fraction({"out_time_us": "20000000"}, 10) == 1.0
    assert progress_fraction({"progress": "end"}, 10) == 1.0
