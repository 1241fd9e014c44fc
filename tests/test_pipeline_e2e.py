"""The whole embedded flow through a real `streamcore serve`, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from tests.fixtures.media import make_clip, truncate
from tests.helpers import (
    create_project,
    decode_all,
    ffprobe_json,
    parse_master,
    upload,
    wait_final,
)

pytestmark = pytest.mark.slow

# profile_idc (hex) by the profile name ffprobe reports.
H264_PROFILE_IDC = {"Constrained Baseline": "42", "Baseline": "42", "Main": "4d", "High": "64"}


def test_720p_clip_reaches_ready_and_plays_through_signed_urls(
    client: httpx.Client, media: Path
) -> None:
    project = create_project(client)
    created = upload(client, project, media / "clip720.mp4")
    assert created["status"] == "uploaded"
    assert created["id"]

    video = wait_final(client, created["id"])
    assert video["status"] == "ready", video
    assert video["progress"] == 100.0
    assert video["error"] is None
    assert video["probe"]["width"] == 1280
    assert video["probe"]["height"] == 720
    assert video["probe"]["duration"] == pytest.approx(10, abs=0.2)
    assert [r["name"] for r in video["renditions"]] == ["720p", "480p", "360p", "240p"]

    master_url = video["playback_url"]
    assert "/stream/" in master_url
    master = client.get(master_url)
    assert master.status_code == 200
    assert master.headers["content-type"] == "application/vnd.apple.mpegurl"
    variants = parse_master(master.text)
    assert [v["RESOLUTION"] for v in variants] == ["1280x720", "854x480", "640x360", "426x240"]
    for v in variants:
        assert int(v["BANDWIDTH"]) > 0
        assert v["CODECS"].startswith("avc1.")
        assert "mp4a.40.2" in v["CODECS"]
        # Each variant has its own token; no storage path leaks into the playlist.
        assert "/" not in v["URI"]
        assert v["URI"].endswith(".m3u8")

    # A player resolves variant URIs relative to the master URL.
    for v in variants:
        variant_url = urljoin(master_url, v["URI"])
        playlist = client.get(variant_url)
        assert playlist.status_code == 200
        segments = [ln for ln in playlist.text.splitlines() if ln and not ln.startswith("#")]
        assert len(segments) >= 3  # 10 s in 4 s segments
        assert all(s.endswith(".ts") for s in segments)
        seg = client.get(urljoin(variant_url, segments[0]))
        assert seg.status_code == 200
        assert seg.headers["content-type"] == "video/mp2t"
        assert seg.content[:1] == b"\x47"  # MPEG-TS sync byte
        # FFmpeg decodes every segment of the variant through the signed URLs.
        decode_all(variant_url)
        # The CODECS string is exact: avc1.<profile_idc><constraints><level> of the
        # stream that is really there, and AAC-LC.
        streams = ffprobe_json(variant_url, "-show_streams")["streams"]
        video_stream = next(st for st in streams if st["codec_type"] == "video")
        video_codec, audio_codec = v["CODECS"].split(",")
        assert video_codec[:7] == "avc1." + H264_PROFILE_IDC[video_stream["profile"]]
        assert int(video_codec[-2:], 16) == video_stream["level"]
        assert (video_stream["width"], video_stream["height"]) == tuple(
            int(n) for n in v["RESOLUTION"].split("x")
        )
        audio_stream = next(st for st in streams if st["codec_type"] == "audio")
        assert (audio_codec, audio_stream["profile"]) == ("mp4a.40.2", "LC")

    probed = ffprobe_json(master_url, "-show_streams")
    heights = sorted(s["height"] for s in probed["streams"] if s["codec_type"] == "video")
    assert heights == [240, 360, 480, 720]


def test_segment_supports_range_requests(client: httpx.Client, media: Path) -> None:
    project = create_project(client)
    video = wait_final(client, upload(client, project, media / "short360.mp4")["id"])
    assert video["status"] == "ready", video
    master_url = video["playback_url"]
    variant_url = urljoin(master_url, parse_master(client.get(master_url).text)[0]["URI"])
    seg_uri = next(
        ln for ln in client.get(variant_url).text.splitlines() if ln and not ln.startswith("#")
    )
    seg_url = urljoin(variant_url, seg_uri)
    whole = client.get(seg_url).content
    part = client.get(seg_url, headers={"Range": "bytes=188-375"})
    assert part.status_code == 206
    assert part.content == whole[188:376]
    assert part.headers["content-range"] == f"bytes 188-375/{len(whole)}"


def test_text_file_named_mp4_fails_with_reason(client: httpx.Client, tmp_path: Path) -> None:
    fake = tmp_path / "clip.mp4"
    fake.write_text("this is not a video, just some text\n" * 20)
    project = create_project(client)
    video = wait_final(client, upload(client, project, fake)["id"])
    assert video["status"] == "failed"
    assert video["error"]["class"] == "ProbeFailed"
    assert "not a readable media file" in video["error"]["message"]
    assert video["playback_url"] is None


def test_truncated_mp4_without_index_fails_at_probe(
    client: httpx.Client, media: Path, tmp_path: Path
) -> None:
    broken = truncate(media / "clip720.mp4", tmp_path / "truncated.mp4", 0.5)
    project = create_project(client)
    video = wait_final(client, upload(client, project, broken)["id"])
    assert video["status"] == "failed"
    assert video["error"]["class"] == "ProbeFailed"
    assert "moov atom not found" in video["error"]["message"]


def test_truncated_faststart_mp4_fails_at_decode(
    client: httpx.Client, media: Path, tmp_path: Path
) -> None:
    # The index is intact, so ffprobe accepts it; only decoding finds the damage.
    broken = truncate(media / "faststart.mp4", tmp_path / "truncated-faststart.mp4", 0.4)
    project = create_project(client)
    video = wait_final(client, upload(client, project, broken)["id"])
    assert video["status"] == "failed", video
    assert video["error"]["class"] == "DecodeFailed"
    assert video["probe"]["duration"] == pytest.approx(6, abs=0.2)


def test_audio_only_file_becomes_audio_hls(client: httpx.Client, tmp_path: Path) -> None:
    path = make_clip(tmp_path / "tone.m4a", seconds=3, video=False)
    project = create_project(client)
    video = wait_final(client, upload(client, project, path)["id"])
    assert video["status"] == "ready", video
    assert video["probe"]["video_codec"] is None
    streams = ffprobe_json(video["playback_url"], "-show_streams")["streams"]
    assert [s["codec_type"] for s in streams] == ["audio"]


def test_tampered_and_foreign_tokens_are_403(client: httpx.Client, media: Path) -> None:
    project = create_project(client)
    video = wait_final(client, upload(client, project, media / "short360.mp4")["id"])
    url: str = video["playback_url"]
    token = url.rsplit("/", 1)[1].split(".")[0]
    flipped = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    for bad in (
        f"/stream/{flipped}.m3u8",
        "/stream/garbage.m3u8",
        "/stream/x",
        f"/stream/{token}.ts",
    ):
        resp = client.get(bad)
        assert resp.status_code == 403, bad
        assert resp.json() == {"error": "Forbidden", "detail": "invalid or expired link"}
