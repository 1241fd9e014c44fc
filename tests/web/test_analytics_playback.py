"""Playback analytics from a real player: the embed page in headless Chromium sends
its beacons (`POST /analytics/events`, the last batch by navigator.sendBeacon on page
hide), the workers fold them into the hourly rollups, and `GET /analytics` tells the
views, the watch time, the startup time, rebuffering and unique viewers."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.fixtures.services import LiveServer
from tests.helpers import create_project, upload, wait_final
from tests.web.conftest import DESKTOP, Account, make_account
from tests.web.console_pages import api_token, sign_in, snap

pytestmark = pytest.mark.slow

PLAYER = "window.streamcorePlayer"
SEGMENT = re.compile(r"/stream/[^/?]+\.(ts|m4s|mp4)(\?|$)")


@pytest.fixture(scope="module")
def analyst(web_server: LiveServer) -> Account:
    return make_account(web_server, "analyst@console.test")


@pytest.fixture(scope="module")
def api(web_server: LiveServer, analyst: Account) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {api_token(web_server, analyst)}"}
    with httpx.Client(base_url=web_server.base_url, timeout=60, headers=headers) as c:
        yield c


@pytest.fixture(scope="module")
def clip(api: httpx.Client, media: Path) -> dict[str, Any]:
    project = create_project(api, "analytics")
    video = wait_final(api, upload(api, project, media / "clip720.mp4", "Watched")["id"])
    assert video["status"] == "ready", video
    return video


def report(api: httpx.Client, video_id: str, until: Any, timeout: float = 60) -> dict[str, Any]:
    """GET /analytics of the video, polled until `until(totals)` holds."""
    deadline = time.monotonic() + timeout
    while True:
        resp = api.get("/analytics", params={"video_id": video_id, "interval": "hour"})
        assert resp.status_code == 200, resp.text
        totals: dict[str, Any] = resp.json()["totals"]
        if until(totals) or time.monotonic() > deadline:
            return totals
        time.sleep(0.5)


def watch(page: Page, url: str, seconds: float) -> None:
    """Play from the start for `seconds` of player time, then leave the page (the
    player ends the view on pagehide and sends the last batch with sendBeacon)."""
    refused: list[str] = []
    page.on(
        "response",
        lambda r: (
            refused.append(f"{r.status} {r.text()}")
            if "/analytics/events" in r.url and r.status != 202
            else None
        ),
    )
    page.goto(url + "?autoplay=1&muted=1")
    page.wait_for_function(
        f"{PLAYER} && ({PLAYER}.video.currentTime >= {seconds} || {PLAYER}.video.ended)",
        timeout=90_000,
        polling=100,
    )
    page.goto("about:blank")
    assert refused == [], refused


def test_a_watched_video_shows_its_view_watch_time_startup_rebuffers_and_viewers(
    browser: Browser,
    api: httpx.Client,
    clip: dict[str, Any],
    web_server: LiveServer,
    analyst: Account,
) -> None:
    video_id = clip["id"]
    first = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    try:
        watch(first.new_page(), clip["embed_url"], 9.9)  # the whole 10 s clip
    finally:
        first.close()
    totals = report(api, video_id, lambda t: t["views"] >= 1 and t["watch_time_seconds"] >= 8.5)
    assert totals["views"] == 1, totals
    assert totals["unique_viewers"] == 1, totals
    assert 8.5 <= totals["watch_time_seconds"] <= 11.5, totals
    assert totals["startup_time_p50_ms"] is not None, totals
    assert totals["startup_time_p50_ms"] > 0
    assert totals["exits_before_start"] == 0

    # A second browser (its own viewer id) on a throttled network: every segment
    # after the first is held back longer than a segment lasts (4 s), so the player
    # stalls and reports rebuffering.
    second = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    served = 0

    def slow_segments(route: Route) -> None:
        nonlocal served
        served += 1
        if served > 1:
            time.sleep(6)  # the route handler holds the response back
        route.continue_()

    try:
        page = second.new_page()
        page.route(SEGMENT, slow_segments)
        watch(page, clip["embed_url"], 6.0)
    finally:
        second.close()
    totals = report(api, video_id, lambda t: t["views"] >= 2 and t["rebuffer_count"] > 0)
    assert totals["views"] == 2, totals
    assert totals["unique_viewers"] == 2, totals
    assert totals["rebuffer_count"] > 0, totals
    assert totals["rebuffer_percentage"] is not None, totals
    assert totals["rebuffer_percentage"] > 0
    assert totals["bytes_served"] > 0, totals

    # The console shows the same numbers: the project's top videos, the video's page.
    third = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    try:
        console(third.new_page(), web_server, analyst, video_id)
    finally:
        third.close()


def console(page: Page, web_server: LiveServer, analyst: Account, video_id: str) -> None:
    sign_in(page, web_server, analyst)
    page.goto(f"{web_server.base_url}/console/analytics")
    top = page.locator("#top-videos tbody tr")
    expect(top).to_have_count(1)
    expect(top.first).to_contain_text("Watched")
    expect(top.first.locator("td").nth(1)).to_have_text("2")
    expect(page.locator(".tile", has_text="Unique viewers")).to_contain_text("2")
    snap(page, "console-analytics")
    page.goto(f"{web_server.base_url}/console/videos/{video_id}")
    expect(page.locator("#analytics .tile", has_text="Views")).to_contain_text("2")
