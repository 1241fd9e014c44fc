"""hls.js in Chromium plays a chunked video across its chunk boundaries without a stall:
the chunks' segments join into one stream (no discontinuity, no gap), and the audio
rendition plays beside the video of every rung."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from tests.fixtures.media import make_clip
from tests.fixtures.services import LiveServer, live_server, server_env
from tests.helpers import create_project, upload, wait_final
from tests.web.conftest import DESKTOP, SCREENSHOTS

pytestmark = pytest.mark.slow

PLAYER = "window.streamcorePlayer"
# 20 s in chunks [0, 4), [4, 12), [12, 20): playing from 2 s to 14 s crosses two.
CHUNKED = {
    "STREAMCORE_MEDIA__CHUNK_THRESHOLD_SECONDS": "10",
    "STREAMCORE_MEDIA__CHUNK_SECONDS": "8",
    "STREAMCORE_MEDIA__FIRST_CHUNK_SECONDS": "4",
}


@pytest.fixture(scope="module")
def chunk_server(tmp_path_factory: pytest.TempPathFactory, secret: str) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("server-chunked-web")
    db = f"sqlite+aiosqlite:///{data_dir / 'streamcore.db'}"
    with live_server(data_dir, server_env(data_dir, db, secret, **CHUNKED)) as server:
        yield server


@pytest.fixture(scope="module")
def chunked_video(chunk_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Any:
    clip = make_clip(tmp_path_factory.mktemp("clip") / "c.mp4", seconds=20, size="854x480")
    with httpx.Client(
        base_url=chunk_server.base_url, timeout=60, headers=chunk_server.auth_headers
    ) as api:
        video = wait_final(api, upload(api, create_project(api, "chunked"), clip)["id"])
        kinds = [j["kind"] for j in api.get("/admin/jobs", params={"video_id": video["id"]},
                 headers=chunk_server.admin_headers).json()]  # fmt: skip
    assert video["status"] == "ready", video
    assert kinds.count("transcode_chunk") == 3, kinds
    return video


def test_hls_js_plays_across_chunk_boundaries_without_a_stall(
    browser: Browser, chunked_video: dict[str, Any]
) -> None:
    context = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        page.goto(chunked_video["embed_url"] + "?autoplay=1&muted=1&start=2")
        page.wait_for_function(f"{PLAYER} && {PLAYER}.video.currentTime > 2.5", timeout=45_000)
        # From here on, every stall and every hls.js error is counted.
        page.evaluate(
            f"""() => {{
                const p = {PLAYER};
                window.stalls = 0; window.hlsErrors = [];
                p.video.addEventListener("waiting", () => {{ window.stalls += 1; }});
                p.hls.on("hlsError", (_e, d) => window.hlsErrors.push(d.details));
            }}"""
        )
        page.wait_for_function(f"{PLAYER}.video.currentTime >= 14", timeout=60_000, polling=100)
        result = page.evaluate(
            f"""() => ({{
                stalls: window.stalls, errors: window.hlsErrors,
                audioTracks: {PLAYER}.hls.audioTracks.length,
                levels: {PLAYER}.hls.levels.length,
                decoded: {PLAYER}.video.getVideoPlaybackQuality().totalVideoFrames,
                dropped: {PLAYER}.video.getVideoPlaybackQuality().droppedVideoFrames,
            }})"""
        )
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "embed-chunked-desktop.png"))
    finally:
        context.close()
    assert result["stalls"] == 0, result
    assert result["errors"] == [], result
    assert result["audioTracks"] == 1, result  # the one audio rendition of the run
    assert result["levels"] == 3, result  # 480p, 360p, 240p
    assert result["decoded"] > 11 * 30, result  # 2 s to 14 s of 30 fps, at least
