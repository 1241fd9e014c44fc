"""The embed player in headless Chromium against a live server: it plays inside a
frame of another origin, switches quality by hand, shows captions of a transcribed
clip and storyboard thumbnails over the timeline, fits 320 px, and shows a message
page (not a broken player) for a tampered, expired or deleted video's link."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Frame, Page

from streamcore.security.stream_tokens import StreamClaim, TokenCodec
from tests.fixtures.services import LiveServer, settings_of
from tests.helpers import create_project, upload, wait_final
from tests.web.conftest import shoot

pytestmark = pytest.mark.slow

PLAYER = "window.streamcorePlayer"


@pytest.fixture(scope="module")
def api(web_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=web_server.base_url, timeout=60, headers=web_server.auth_headers
    ) as c:
        yield c


@pytest.fixture(scope="module")
def project(api: httpx.Client) -> str:
    return create_project(api, "embed")


@pytest.fixture(scope="module")
def clip(api: httpx.Client, project: str, media: Path) -> dict[str, Any]:
    """A 10 s 720p clip (four renditions, a storyboard), ready to play."""
    video = wait_final(api, upload(api, project, media / "clip720.mp4", "Test pattern")["id"])
    assert video["status"] == "ready", video
    return video


def wait_playing(frame: Page | Frame, past: float = 3.0) -> None:
    frame.wait_for_function(
        f"{PLAYER} && {PLAYER}.video.currentTime > {past}", timeout=45_000, polling=200
    )


def test_the_video_gives_an_embed_url_and_a_snippet(
    clip: dict[str, Any], web_server: LiveServer
) -> None:
    url = clip["embed_url"]
    assert url.startswith(f"{web_server.base_url}/embed/")
    token = url.rsplit("/", 1)[1]
    assert clip["playback_url"] == f"{web_server.base_url}/stream/{token}.m3u8"
    html = clip["embed_html"]
    assert f'src="{url}"' in html
    assert 'allow="autoplay; fullscreen; picture-in-picture"' in html
    assert "padding-top:56.25%" in html  # 16:9, as the clip
    page = httpx.get(url)
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == "frame-ancestors *"
    assert "x-frame-options" not in page.headers


@pytest.fixture
def host_page(tmp_path: Path, clip: dict[str, Any]) -> Iterator[str]:
    """A page on another origin (localhost, another port) with the video's snippet."""
    url = clip["embed_url"]
    snippet = clip["embed_html"].replace(url, url + "?autoplay=1&amp;muted=1")
    (tmp_path / "index.html").write_text(
        "<!doctype html><meta charset=utf-8><title>A blog</title>"
        "<body style='font-family:sans-serif;max-width:760px;margin:40px auto;padding:0 16px'>"
        f"<h1>A post with a video</h1><p>Some text above the player.</p>{snippet}"
        "<p>Some text below.</p></body>"
    )

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://localhost:{httpd.server_address[1]}/index.html"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_embed_plays_inside_a_frame_of_another_origin(
    page: Page, host_page: str, clip: dict[str, Any]
) -> None:
    page.goto(host_page)
    frame = page.frame_locator("iframe")
    frame.locator("media-controller").wait_for()
    [player] = [f for f in page.frames if "/embed/" in f.url]
    assert urlsplit(player.url).netloc != urlsplit(page.url).netloc
    wait_playing(player)
    levels = player.evaluate(f"{PLAYER}.hls.levels.map(l => l.height)")
    assert sorted(levels) == [240, 360, 480, 720]
    events = player.evaluate(f"{PLAYER}.tracker.log.map(e => e.type)")
    assert events[:1] == ["view_start"]
    assert "first_frame" in events
    assert "rendition_change" in events
    shoot(page, "embed-in-frame")
    assert page.errors == []  # type: ignore[attr-defined]


def test_quality_is_picked_by_hand_in_the_settings_menu(page: Page, clip: dict[str, Any]) -> None:
    page.goto(clip["embed_url"] + "?autoplay=1&muted=1")
    wait_playing(page, 1.0)
    heights = page.evaluate(f"{PLAYER}.hls.levels.map(l => l.height)")
    wanted = heights.index(240)
    page.locator("#settings-button").click()
    page.locator("#quality-item").click()
    item = page.locator("#quality-menu [role=menuitemradio]", has_text="240p")
    item.wait_for()
    shoot(page, "embed-quality-menu")
    item.click()
    page.wait_for_function(f"{PLAYER}.hls.currentLevel === {wanted}", timeout=20_000)
    assert page.evaluate(f"{PLAYER}.hls.autoLevelEnabled") is False
    page.wait_for_function(
        f"{PLAYER}.tracker.log.some(e => e.type === 'rendition_change' && e.rendition === '240p')",
        timeout=20_000,
    )
    event = page.evaluate(f"{PLAYER}.tracker.log.filter(e => e.rendition === '240p')[0]")
    assert event["bitrate"] > 0
    assert event["view_id"]
    assert event["viewer_id"]
    assert isinstance(event["at"], int)


def test_hovering_the_timeline_shows_a_storyboard_thumbnail(
    page: Page, clip: dict[str, Any]
) -> None:
    page.goto(clip["embed_url"] + "?start=2")
    page.wait_for_function(f"{PLAYER} && {PLAYER}.video.readyState >= 1", timeout=30_000)
    page.mouse.move(640, 400)
    box = page.locator("#timeline").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2)
    thumb = page.locator("media-preview-thumbnail[slot=preview]")
    page.wait_for_function(
        """() => {
            const t = document.querySelector('media-preview-thumbnail');
            const img = t && t.shadowRoot && t.shadowRoot.querySelector('img');
            return img && img.complete && img.naturalWidth > 0 && t.offsetWidth > 0;
        }""",
        timeout=20_000,
    )
    # A pointer that rests for autohide's 2 s hides the controls: move it a little.
    page.mouse.move(box["x"] + box["width"] * 0.6 + 2, box["y"] + box["height"] / 2)
    thumb.wait_for(state="visible", timeout=5_000)
    src = thumb.evaluate("t => t.shadowRoot.querySelector('img').src")
    assert "/stream/" in src
    assert src.endswith(".jpg")
    size = thumb.bounding_box()
    assert size is not None
    assert size["width"] > 40
    assert size["height"] > 20
    shoot(page, "embed-storyboard")


def test_the_controls_fit_a_320_px_frame(browser: Browser, clip: dict[str, Any]) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 180})
    try:
        page = context.new_page()
        page.goto(clip["embed_url"])
        page.wait_for_function(f"{PLAYER} && {PLAYER}.video.readyState >= 1", timeout=30_000)
        page.mouse.move(160, 90)
        for selector in (
            ".controls media-play-button",
            "media-mute-button",
            "media-time-display",
            "#settings-button",
            "media-fullscreen-button",
            "#timeline",
        ):
            control = page.locator(selector)
            assert control.is_visible(), selector
            box = control.bounding_box()
            assert box is not None
            assert box["x"] >= 0, selector
            assert box["x"] + box["width"] <= 320, (selector, box)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        page.screenshot(path=str(Path(__file__).parent / "screenshots" / "embed-320.png"))
    finally:
        context.close()


def test_a_tampered_or_expired_link_shows_a_message(
    page: Page, clip: dict[str, Any], web_server: LiveServer
) -> None:
    url = clip["embed_url"]
    token = url.rsplit("/", 1)[1]
    middle = len(token) // 2
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    response = page.goto(url.replace(token, tampered))
    assert response is not None
    assert response.status == 403
    assert page.locator("h1").inner_text() == "This link has expired"
    assert page.locator("video").count() == 0

    codec = TokenCodec.from_secret(settings_of(web_server.env).resolved_secret())
    claim = StreamClaim(clip["id"], "hls/master.m3u8", int(time.time()) - 5)
    response = page.goto(f"{web_server.base_url}/embed/{codec.encode(claim)}")
    assert response is not None
    assert response.status == 403
    assert page.locator("h1").inner_text() == "This link has expired"
    shoot(page, "embed-expired")

    # A token of another file of the video is no player link either.
    soon = int(time.time()) + 60
    other = codec.encode(StreamClaim(clip["id"], "thumbnails/storyboard.vtt", soon))
    response = page.goto(f"{web_server.base_url}/embed/{other}")
    assert response is not None
    assert response.status == 403


def test_a_deleted_video_shows_a_message(
    page: Page, api: httpx.Client, project: str, media: Path
) -> None:
    video = wait_final(api, upload(api, project, media / "short360.mp4")["id"])
    assert video["status"] == "ready", video
    assert api.delete(f"/videos/{video['id']}").status_code == 202
    response = page.goto(video["embed_url"])
    assert response is not None
    assert response.status == 410
    assert page.locator("h1").inner_text() == "This video is no longer available"
    assert page.locator("video").count() == 0
    shoot(page, "embed-deleted")


@pytest.fixture(scope="module")
def spoken(api: httpx.Client, project: str, speech: Path) -> dict[str, Any]:
    """The espeak-ng clip, transcribed: its master carries an English subtitle group."""
    from tests.transcripts.test_transcribe_e2e import wait_transcript

    video = wait_final(api, upload(api, project, speech / "speech.mp4", "A spoken clip")["id"])
    assert video["status"] == "ready", video
    assert api.post("/media/transcribe", json={"video_id": video["id"]}).status_code == 202
    video = wait_transcript(api, video["id"])
    assert video["transcript"]["status"] == "ready", video
    return video


ACTIVE_CUE = """() => Array.from(document.getElementById('video').textTracks).some(
    t => t.kind === 'subtitles' && t.mode === 'showing' && t.activeCues
         && t.activeCues.length > 0 && t.activeCues[0].text.trim().length > 0)"""


def test_captions_from_the_query_string_show_a_cue(page: Page, spoken: dict[str, Any]) -> None:
    page.goto(spoken["embed_url"] + "?captions=en&autoplay=1&muted=1&start=1")
    page.wait_for_function(ACTIVE_CUE, timeout=45_000, polling=200)
    text = page.evaluate(
        """() => Array.from(document.getElementById('video').textTracks)
            .filter(t => t.mode === 'showing')[0].activeCues[0].text"""
    )
    assert any(word in text.lower() for word in ("good", "morning", "welcome", "everyone"))
    shoot(page, "embed-captions")


def test_captions_are_switched_on_in_the_menu(page: Page, spoken: dict[str, Any]) -> None:
    page.goto(spoken["embed_url"] + "?autoplay=1&muted=1")
    wait_playing(page, 0.5)
    assert not page.evaluate(ACTIVE_CUE)
    page.locator("#settings-button").click()
    page.locator("#captions-item").click()
    item = page.locator("#captions-menu [role=menuitemradio]", has_text="English")
    item.wait_for()
    shoot(page, "embed-captions-menu")
    item.click()
    page.wait_for_function(ACTIVE_CUE, timeout=30_000, polling=200)
