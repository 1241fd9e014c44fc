from __future__ import annotations

from typing import Any

import pytest

from streamcore.media.failures import LimitExceeded, ProbeFailed, UnsupportedMedia
from streamcore.media.probe import (
    ALLOWED_DEMUXERS,
    MediaInfo,
    interpret_probe,
    looks_like_text_playlist,
    probe_args,
    probe_reason,
)

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


def test_probe_args_read_one_local_file_as_json() -> None:
    args = probe_args("/w/source")
    assert args[:4] == ["-v", "error", "-protocol_whitelist", "file"]
    assert args[4] == "-format_whitelist"
    assert args[5].split(",") == list(ALLOWED_DEMUXERS)
    assert "hls" not in args[5].split(",")
    assert args[6:] == ["-of", "json", "-show_format", "-show_streams", "/w/source"]


def test_probe_reason_drops_addresses_and_paths() -> None:
    path = "/var/lib/streamcore/work/01HZX/source"
    tail = (
        "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5581d7f2a000] moov atom not found\n"
        f"{path}: Invalid data found when processing input\n"
        f"Error opening {path}\n"
        "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5581d7f2a000] moov atom not found\n"
    )
    assert probe_reason(tail, path) == (
        "not a readable media file (moov atom not found; Invalid data found when processing input)"
    )
    assert probe_reason("", path) == "not a readable media file"
    assert probe_reason(f"{path}\n\n", path) == "not a readable media file"
    assert len(probe_reason("x" * 1000, path)) == len("not a readable media file ()") + 300


def test_media_info_from_stored_fields() -> None:
    info = MediaInfo.from_probe_fields(
        container="matroska,webm",
        duration=12.5,
        bitrate=900_000,
        width=640,
        height=360,
        frame_rate=25.0,
        video_codec="vp9",
        audio_codec="opus",
    )
    assert info == MediaInfo("matroska,webm", 12.5, 900_000, 640, 360, 25.0, "vp9", "opus")
    assert (info.demuxer, info.has_video, info.has_audio) == ("matroska", True, True)
    empty = MediaInfo.from_probe_fields(
        container=None,
        duration=None,
        bitrate=None,
        width=None,
        height=None,
        frame_rate=None,
        video_codec=None,
        audio_codec="aac",
    )
    assert (empty.format_name, empty.duration, empty.has_video) == ("", 0.0, False)


def test_duration_falls_back_to_the_streams_and_odd_rates() -> None:
    data = probe(duration="N/A", avg_frame_rate="0/0", r_frame_rate="25/1")
    data["streams"][0]["duration"] = "8.5"
    info = interpret_probe(data, **LIMITS)
    assert (info.duration, info.frame_rate) == (8.5, 25.0)
    with pytest.raises(ProbeFailed, match="no duration"):
        interpret_probe(probe(duration="nan"), **LIMITS)
    with pytest.raises(ProbeFailed, match="no dimensions"):
        interpret_probe(probe(width=0), **LIMITS)


def test_variable_frame_rate_from_base_against_average_rate() -> None:
    cfr = interpret_probe(probe(r_frame_rate="30000/1001", avg_frame_rate="2997/100"), **LIMITS)
    assert cfr.variable_frame_rate is False
    vfr = interpret_probe(probe(r_frame_rate="60/1", avg_frame_rate="24000/1001"), **LIMITS)
    assert vfr.variable_frame_rate is True
    assert vfr.frame_rate == pytest.approx(23.976, abs=0.001)
    unknown = interpret_probe(probe(), **LIMITS)  # no r_frame_rate
    assert unknown.variable_frame_rate is None


def test_stored_fields_without_the_flag_are_not_known_to_be_constant() -> None:
    fields: dict[str, Any] = {"container": "mov", "duration": 3.0, "bitrate": None,
        "width": 640, "height": 360, "frame_rate": 30.0, "video_codec": "h264",
        "audio_codec": None}  # fmt: skip
    assert MediaInfo.from_probe_fields(**fields).variable_frame_rate is None
    flagged = MediaInfo.from_probe_fields(**fields, variable_frame_rate=False)
    assert flagged.variable_frame_rate is False
