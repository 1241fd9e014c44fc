"""Pure planning of a chunked transcode and the stitched playlists."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamcore.media.chunks import Span, chunk_ladder_args, plan_chunks
from streamcore.media.ladder import Rendition
from streamcore.media.probe import MediaInfo
from streamcore.media.stitch import (
    Variant,
    h264_codec,
    master_playlist,
    media_playlist,
    parse_media_playlist,
)

PLAN = {"threshold": 120, "chunk_seconds": 60, "first_seconds": 4, "segment_seconds": 4}


def test_short_sources_keep_the_single_pass() -> None:
    assert plan_chunks(120, **PLAN) == []
    assert plan_chunks(3600, **{**PLAN, "threshold": 0}) == []


def test_spans_are_whole_segments_with_a_short_first_one() -> None:
    spans = plan_chunks(360, **PLAN)
    assert spans[0] == Span(0, 0.0, 4.0)
    assert [s.start for s in spans] == [0, 4, 64, 124, 184, 244, 304]
    assert spans[-1].end == 360
    assert all(s.start % 4 == 0 for s in spans)
    assert sum(s.duration for s in spans) == 360


def test_a_sliver_at_the_end_joins_the_chunk_before() -> None:
    spans = plan_chunks(130, **PLAN)  # 4 + 60 + 60 + 6: the 6 s joins the third
    assert [(s.start, s.end) for s in spans] == [(0, 4), (4, 64), (64, 130)]


def test_chunk_sizes_round_to_segments() -> None:
    spans = plan_chunks(300, **{**PLAN, "chunk_seconds": 57, "first_seconds": 1})
    assert spans[0].duration == 4  # at least one segment
    assert spans[1].duration == 56  # 57 s is 14.25 segments: 14


def test_chunk_command_seeks_offsets_and_marks_its_first_packets() -> None:
    info = MediaInfo.from_probe_fields(
        container="mov,mp4,m4a,3gp,3g2,mj2", duration=360, bitrate=None, width=1280,
        height=720, frame_rate=30, video_codec="h264", audio_codec="aac",
    )  # fmt: skip
    rungs = [Rendition("720p", 1280, 720, 2800, 128), Rendition("360p", 640, 360, 800, 96)]
    args = chunk_ladder_args("/src", Path("/out"), info, rungs, Span(2, 64, 124))
    assert args[args.index("-ss") + 1] == "64.000000"
    assert args[args.index("-t") + 1] == "60.000000"
    assert args.index("-ss") < args.index("-i")  # an input seek: only the span is read
    assert args[args.index("-output_ts_offset") + 1] == "74.000000"  # start + 10 s
    assert "mpegts_flags=+initial_discontinuity" in args
    assert "-an" in args  # the audio is encoded once, elsewhere
    assert args[-1] == "/out/%v/chunk-0002.m3u8"
    assert "/out/%v/c0002_%03d.ts" in args


def test_media_playlist_is_an_event_until_the_last_chunk() -> None:
    segs = [("c0000_000.ts", 4.0, 1000), ("c0001_000.ts", 3.5, 900)]
    growing = media_playlist(segs, target=4, ended=False)
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" in growing
    assert "#EXT-X-ENDLIST" not in growing
    done = media_playlist(segs, target=4, ended=True)
    assert done.rstrip().endswith("#EXT-X-ENDLIST")
    assert "DISCONTINUITY" not in done
    assert parse_media_playlist(done) == [("c0000_000.ts", 4.0), ("c0001_000.ts", 3.5)]


def test_master_bandwidth_covers_the_peak_segment_and_the_audio() -> None:
    segs = (("a.ts", 4.0, 500_000), ("b.ts", 4.0, 2_000_000), ("c.ts", 0.2, 900_000))
    v = Variant("720p", 1280, 720, 2_996_000, "avc1.64001f", 30.0, segs)
    # The 4 Mbit/s segment is the peak (the 0.2 s tail is not a rate).
    assert v.peak_bps() == pytest.approx(4_000_000)
    master = master_playlist([v], audio_bps=128_000)
    assert 'TYPE=AUDIO,GROUP-ID="audio"' in master
    assert 'URI="audio/index.m3u8"' in master
    assert f"BANDWIDTH={4_000_000 + 140_800}," in master
    assert 'CODECS="avc1.64001f,mp4a.40.2"' in master
    assert 'AUDIO="audio"' in master
    silent = master_playlist([v], audio_bps=None)
    assert "TYPE=AUDIO" not in silent
    assert 'CODECS="avc1.64001f"' in silent


def test_codec_tag_comes_from_the_sequence_parameter_set() -> None:
    data = b"\x47\x40\x00" + b"\x00\x00\x00\x01\x09\xf0" + b"\x00\x00\x00\x01\x67\x64\x00\x1f\xac"
    assert h264_codec(data) == "avc1.64001f"
    assert h264_codec(b"no video here") is None
