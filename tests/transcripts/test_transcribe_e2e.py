"""Upload → ready → transcribed through a real `streamcore serve`, on SQLite and
PostgreSQL, with the offline engine and espeak-ng speech of known sentences."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from tests.fixtures.speech import SENTENCES, word_error_rate
from tests.helpers import PLAYER_PROTOCOLS, create_project, ffprobe_json, upload, wait_final

pytestmark = pytest.mark.slow

TEXT = " ".join(SENTENCES)
MAX_WER = 0.15


def wait_transcript(client: httpx.Client, video_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    video: dict[str, Any] = {}
    while time.monotonic() < deadline:
        video = client.get(f"/videos/{video_id}").json()
        if video["transcript"]["status"] in ("ready", "failed"):
            return video
        time.sleep(0.25)
    raise AssertionError(f"transcript of {video_id} not final after {timeout}s: {video}")


def subtitle_renditions(master: str) -> list[dict[str, str]]:
    out = []
    for line in master.splitlines():
        if line.startswith("#EXT-X-MEDIA:") and "TYPE=SUBTITLES" in line:
            attrs = re.findall(r'([A-Z-]+)=("[^"]*"|[^,]*)', line.split(":", 1)[1])
            out.append({k: v.strip('"') for k, v in attrs})
    return out


def vtt_cue_text(vtt: str) -> str:
    """The words of every cue (no header, numbers or timings)."""
    lines = []
    for block in vtt.split("\n\n")[1:]:
        body = [ln for ln in block.splitlines() if "-->" not in ln and not ln.isdigit()]
        lines += body
    return " ".join(lines)


def test_speech_is_transcribed_and_captioned(
    client: httpx.Client, speech: Path, tmp_path: Path
) -> None:
    project = create_project(client)
    video = wait_final(client, upload(client, project, speech / "speech.mp4")["id"])
    assert video["status"] == "ready", video
    assert video["transcript"] == {
        "status": "none",
        "language": None,
        "json_url": None,
        "text_url": None,
        "vtt_url": None,
        "error": None,
    }

    resp = client.post("/media/transcribe", json={"video_id": video["id"]})
    assert resp.status_code == 202, resp.text
    assert resp.json()["transcript"]["status"] == "pending"
    video = wait_transcript(client, video["id"])
    transcript = video["transcript"]
    assert transcript["status"] == "ready", transcript
    assert transcript["language"] == "en"
    assert video["status"] == "ready"

    # Plain text: the known sentences, within the word error rate budget.
    text = client.get(transcript["text_url"])
    assert text.status_code == 200
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    wer = word_error_rate(TEXT, text.text)
    print(f"WER {wer:.3f}: {text.text!r}")
    assert wer <= MAX_WER, text.text

    # JSON: segments with timestamps inside the clip, and words.
    data = client.get(transcript["json_url"]).json()
    assert data["language"] == "en"
    assert data["duration"] == pytest.approx(video["probe"]["duration"], abs=0.5)
    assert word_error_rate(TEXT, " ".join(s["text"] for s in data["segments"])) <= MAX_WER
    for seg in data["segments"]:
        assert 0 <= seg["start"] < seg["end"] <= data["duration"] + 0.5
        assert seg["words"]
        assert {"word", "start", "end"} <= seg["words"][0].keys()

    vtt = client.get(transcript["vtt_url"])
    assert vtt.headers["content-type"] == "text/vtt; charset=utf-8"
    assert vtt.text.startswith("WEBVTT")
    assert word_error_rate(TEXT, vtt_cue_text(vtt.text)) <= MAX_WER

    # The HLS master now offers the captions as a SUBTITLES rendition.
    master_url = video["playback_url"]
    master = client.get(master_url).text
    (subs,) = subtitle_renditions(master)
    assert subs["GROUP-ID"] == "subs"
    assert subs["LANGUAGE"] == "en"
    assert subs["NAME"] == "English"
    assert (subs["DEFAULT"], subs["AUTOSELECT"]) == ("NO", "YES")
    assert "/" not in subs["URI"]  # a signed token like every other URI
    infs = [ln for ln in master.splitlines() if ln.startswith("#EXT-X-STREAM-INF:")]
    assert infs
    assert all('SUBTITLES="subs"' in ln for ln in infs)

    # A player follows the signed URIs to the captions: FFmpeg reads the subtitle
    # playlist as a WebVTT stream and decodes the cues.
    subs_url = urljoin(master_url, subs["URI"])
    playlist = client.get(subs_url).text
    assert "#EXT-X-ENDLIST" in playlist
    streams = ffprobe_json(subs_url, "-show_streams")["streams"]
    assert [(s["codec_type"], s["codec_name"]) for s in streams] == [("subtitle", "webvtt")]
    srt = subprocess.run(
        ["ffmpeg", "-v", "error", "-protocol_whitelist", PLAYER_PROTOCOLS,
         "-i", subs_url, "-f", "srt", "-"],
        capture_output=True, timeout=60, check=True,
    ).stdout.decode()  # fmt: skip
    cue_text = " ".join(
        ln for ln in srt.splitlines() if ln.strip() and "-->" not in ln and not ln.isdigit()
    )
    assert word_error_rate(TEXT, cue_text) <= MAX_WER, srt
    # The segment playlists still play next to it.
    probed = ffprobe_json(master_url, "-show_streams")["streams"]
    assert {"video", "audio"} <= {s["codec_type"] for s in probed}


def test_project_with_auto_transcribe(client: httpx.Client, speech: Path) -> None:
    resp = client.post("/projects", json={"name": "auto", "auto_transcribe": True})
    assert resp.status_code == 201
    assert resp.json()["auto_transcribe"] is True
    video = wait_final(client, upload(client, resp.json()["id"], speech / "speech.mp4")["id"])
    assert video["status"] == "ready", video
    video = wait_transcript(client, video["id"])
    assert video["transcript"]["status"] == "ready", video["transcript"]
    text = client.get(video["transcript"]["text_url"]).text
    assert word_error_rate(TEXT, text) <= MAX_WER


def test_unknown_and_unready_videos(client: httpx.Client, tmp_path: Path) -> None:
    assert client.post("/media/transcribe", json={"video_id": "nope"}).status_code == 422
    resp = client.post("/media/transcribe", json={"video_id": "0" * 32})
    assert resp.status_code == 404
    assert resp.json() == {"error": "NotFound", "detail": "video not found"}

    fake = tmp_path / "clip.mp4"
    fake.write_text("not a video\n" * 20)
    video = wait_final(client, upload(client, create_project(client), fake)["id"])
    assert video["status"] == "failed"
    resp = client.post("/media/transcribe", json={"video_id": video["id"]})
    assert resp.status_code == 409
    assert resp.json() == {"error": "Conflict", "detail": "the video is not ready (status: failed)"}

    resp = client.post("/media/transcribe", json={})
    assert resp.status_code == 422


def test_video_without_audio_is_422(client: httpx.Client, tmp_path: Path) -> None:
    from tests.fixtures.media import make_clip

    silent = make_clip(tmp_path / "silent.mp4", seconds=2, size="320x240", audio=False)
    video = wait_final(client, upload(client, create_project(client), silent)["id"])
    assert video["status"] == "ready", video
    resp = client.post("/media/transcribe", json={"video_id": video["id"]})
    assert resp.status_code == 422
    assert resp.json()["detail"] == "the video has no audio track"
