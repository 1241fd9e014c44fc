"""hls.js, in headless Chromium, plays the signed playback URL: it parses the master,
lists every rendition, loads segments through their own tokens (cross-origin, so CORS
is exercised too) and the video element's clock advances."""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import create_project, upload, wait_final

pytestmark = pytest.mark.slow

JS = Path(__file__).parent / "js"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def player_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """player.html and hls.js served from another origin than the API."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed; `make setup` installs it for this test")
    if not (JS / "node_modules" / "hls.js").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS, check=True)
    root = tmp_path_factory.mktemp("player")
    shutil.copy(JS / "player.html", root / "player.html")
    shutil.copy(JS / "node_modules" / "hls.js" / "dist" / "hls.min.js", root / "hls.min.js")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/player.html"
    httpd.shutdown()


def play(page: str, master: str) -> dict[str, object]:
    out = subprocess.run(
        ["node", str(JS / "play.mjs"), page, master],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "CHROMIUM": CHROMIUM},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_hlsjs_plays_the_signed_master(client: httpx.Client, media: Path, player_page: str) -> None:
    video = wait_final(client, upload(client, create_project(client), media / "clip720.mp4")["id"])
    assert video["status"] == "ready", video
    result = play(player_page, video["playback_url"])
    assert result["errors"] == [], result
    levels = result["levels"]
    assert isinstance(levels, list)
    assert sorted(lv["height"] for lv in levels) == [240, 360, 480, 720]
    assert all(lv["codecs"] for lv in levels)
    assert isinstance(result["fragments"], int)
    assert result["fragments"] >= 1
    assert isinstance(result["currentTime"], float | int)
    assert result["currentTime"] > 1.5, result


def test_hlsjs_sees_the_caption_track_of_a_transcribed_video(
    client: httpx.Client, speech: Path, player_page: str
) -> None:
    from tests.transcripts.test_transcribe_e2e import wait_transcript

    video = wait_final(client, upload(client, create_project(client), speech / "speech.mp4")["id"])
    assert video["status"] == "ready", video
    assert client.post("/media/transcribe", json={"video_id": video["id"]}).status_code == 202
    assert wait_transcript(client, video["id"])["transcript"]["status"] == "ready"
    result = play(player_page, video["playback_url"])
    assert result["errors"] == [], result
    assert result["subtitleTracks"] == ["en"], result
