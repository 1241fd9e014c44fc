"""What a finished asset carries: derivatives, posters, storyboard, playable-early HLS."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from tests.fixtures.media import (
    integrated_loudness,
    luma_of_image,
    make_black_then_pattern,
    make_clip,
    make_vfr,
)
from tests.helpers import create_project, ffprobe_json, parse_master, upload, wait_final

pytestmark = pytest.mark.slow


def download(client: httpx.Client, url: str, dest: Path) -> Path:
    resp = client.get(url)
    assert resp.status_code == 200, url
    dest.write_bytes(resp.content)
    return dest


def test_derivatives_are_loudness_normalised(client: httpx.Client, tmp_path: Path) -> None:
    src = make_black_then_pattern(tmp_path / "src.mp4")
    assert integrated_loudness(src) < -19  # a quiet source
    video = wait_final(client, upload(client, create_project(client), src)["id"])
    assert video["status"] == "ready", video
    d = video["derivatives"]
    mp3 = download(client, d["mp3"], tmp_path / "a.mp3")
    mp4 = download(client, d["mp4"], tmp_path / "v.mp4")
    assert integrated_loudness(mp3) == pytest.approx(-16, abs=1.0)
    assert integrated_loudness(mp4) == pytest.approx(-16, abs=1.0)
    streams = ffprobe_json(str(mp4), "-show_streams", "-show_format")
    assert [s["codec_name"] for s in streams["streams"]] == ["h264", "aac"]
    assert streams["streams"][0]["height"] == 360  # the top rung, copied
    assert float(streams["format"]["duration"]) == pytest.approx(6, abs=0.3)


def test_poster_is_not_black_and_storyboard_is_signed(client: httpx.Client, tmp_path: Path) -> None:
    src = make_black_then_pattern(tmp_path / "src.mp4", black=3, seconds=8)
    video = wait_final(client, upload(client, create_project(client), src)["id"])
    d = video["derivatives"]
    assert set(d["posters"]) == {"640", "320"}  # sizes up to the source width
    poster = download(client, d["posters"]["640"], tmp_path / "poster.jpg")
    assert luma_of_image(poster) > 40
    vtt = client.get(d["storyboard_vtt"])
    assert vtt.headers["content-type"].startswith("text/vtt")
    cues = [ln for ln in vtt.text.splitlines() if "#xywh=" in ln]
    assert len(cues) == 8  # one tile per second of an 8 s video
    first = cues[0]
    assert first.split("#")[0].endswith(".jpg")
    assert "/" not in first
    sprite = client.get(urljoin(d["storyboard_vtt"], first.split("#")[0]))
    assert sprite.status_code == 200
    assert sprite.headers["content-type"] == "image/jpeg"


def test_video_without_audio_and_variable_frame_rate(client: httpx.Client, tmp_path: Path) -> None:
    silent = make_clip(tmp_path / "silent.mp4", seconds=4, size="640x360", audio=False)
    vfr = make_vfr(tmp_path / "vfr.mkv")
    project = create_project(client)
    v1 = wait_final(client, upload(client, project, silent)["id"])
    assert v1["status"] == "ready", v1
    assert v1["derivatives"]["mp3"] is None
    assert v1["derivatives"]["mp4"] is not None
    variants = parse_master(client.get(v1["playback_url"]).text)
    assert all(v["CODECS"].startswith("avc1.") and "mp4a" not in v["CODECS"] for v in variants)

    v2 = wait_final(client, upload(client, project, vfr)["id"])
    assert v2["status"] == "ready", v2
    top = urljoin(v2["playback_url"], parse_master(client.get(v2["playback_url"]).text)[0]["URI"])
    frames = ffprobe_json(top, "-select_streams", "v:0", "-show_entries", "frame=pts_time")
    times = [float(f["pts_time"]) for f in frames["frames"]]
    steps = {round(b - a, 3) for a, b in itertools.pairwise(times)}
    assert len(steps) <= 2, steps  # constant frame rate out (rounding aside)


def read_events(client: httpx.Client, video_id: str) -> list[dict[str, Any]]:
    events = []
    with client.stream("GET", f"/videos/{video_id}/events", timeout=120) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        for line in resp.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    return events


def test_playable_while_encoding_then_vod(client: httpx.Client, tmp_path: Path) -> None:
    src = make_clip(tmp_path / "long.mp4", seconds=30, size="960x540")
    created = upload(client, create_project(client), src)
    events = read_events(client, created["id"])
    statuses = [(e["type"], e["status"], e["playable"]) for e in events]
    assert statuses[-1] == ("status", "ready", True)
    early = [e for e in events if e["playable"] and e["status"] == "transcoding"]
    assert early, statuses  # playable before the ladder finished
    progress = [e for e in events if e["type"] == "progress"]
    assert progress
    assert all(0 < e["progress"] <= 100 for e in progress)
    assert any(e["eta_seconds"] is not None for e in progress)

    video = client.get(f"/videos/{created['id']}").json()
    variant = urljoin(
        video["playback_url"], parse_master(client.get(video["playback_url"]).text)[0]["URI"]
    )
    text = client.get(variant).text
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in text
    assert "#EXT-X-ENDLIST" in text
