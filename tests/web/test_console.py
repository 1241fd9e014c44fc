"""The console in a real browser: sign in, make a project that transcribes, upload a
clip with tus and watch the list go to `ready` live (Socket.IO, no reload), play it,
seek it from a transcript line, edit it, delete it."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.fixtures.media import make_clip
from tests.fixtures.services import LiveServer
from tests.fixtures.speech import SENTENCES, make_speech_clip
from tests.web.conftest import make_account
from tests.web.console_pages import create_project, sign_in, snap


def test_upload_watch_play_delete(page: Page, web_server: LiveServer, tmp_path: Path) -> None:
    base = web_server.base_url
    account = make_account(web_server, "uploader@console.test")
    # Two sentences of speech over a test pattern: ~7 s.
    clip = make_speech_clip(tmp_path / "launch-teaser.mp4", " ".join(SENTENCES[:2]))

    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/console/signin")
    # A wrong password is answered in words, on the form.
    page.fill("input[name=email]", account.email)
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    expect(page.locator(".form-error")).to_contain_text("invalid")
    snap(page, "signin")

    sign_in(page, web_server, account)
    # No project yet: the console sends a new user to make one.
    expect(page).to_have_url(f"{base}/console/projects")
    expect(page.locator(".empty")).to_contain_text("No project yet")
    snap(page, "projects-empty")
    create_project(page, web_server, "Launch videos", transcribe=True)
    expect(page.locator(".empty")).to_contain_text("No videos yet")
    snap(page, "videos-empty")

    # A marker on the window: still there at the end means the page never reloaded.
    page.evaluate("window.__noReload = true")
    # Two files picked at once: each gets its own tus upload.
    second = make_clip(tmp_path / "b-roll.mp4", seconds=2, size="320x240")
    page.set_input_files("#file-input", [str(clip), str(second)])
    row = page.locator("tr.video-row", has_text="launch-teaser.mp4")
    expect(row).to_be_visible(timeout=15_000)
    expect(page.locator(".upload-row.done")).to_have_count(2, timeout=30_000)
    expect(page.locator("tr.video-row", has_text="b-roll.mp4")).to_be_visible()
    expect(row).to_have_attribute("data-status", "ready", timeout=120_000)
    assert page.evaluate("window.__noReload") is True
    expect(page.locator("body")).to_have_attribute("data-realtime", "live")
    expect(row.locator(".badge")).to_have_text("ready")
    snap(page, "videos-list")

    # Filters: a search that matches nothing, then one that matches.
    page.fill("input[name=q]", "no-such-video")
    expect(page.locator(".empty")).to_contain_text("No video matches")
    page.fill("input[name=q]", "teaser")
    expect(row).to_be_visible()
    page.select_option("select[name=status]", "failed")
    expect(row).to_have_count(0)
    page.select_option("select[name=status]", "ready")
    expect(row).to_be_visible()

    video_id = row.get_attribute("data-video")
    row.locator("a.title").click()
    expect(page).to_have_url(f"{base}/console/videos/{video_id}")
    # The player is the embed page (/embed/{token}) in an iframe.
    frame_el = page.locator(".player-box iframe.player-frame")
    expect(frame_el).to_have_attribute("src", re.compile(r"/embed/"))
    frame = frame_el.element_handle().content_frame()
    assert frame is not None
    frame.wait_for_selector("video")
    frame.evaluate("() => { const v = document.querySelector('video'); v.muted = true; v.play() }")
    frame.wait_for_function("document.querySelector('video').currentTime > 3", timeout=30_000)
    expect(page.locator("#renditions tbody tr").first).to_be_visible()
    expect(page.locator("#details")).to_contain_text("h264")
    mp4 = page.locator("[data-download=mp4]")
    assert (mp4.get_attribute("href") or "").startswith(f"{base}/stream/")
    assert (page.locator("[data-download=mp3]").get_attribute("href") or "").startswith(base)
    snippet = page.locator("#embed-snippet")
    expect(snippet).to_have_value(re.compile(r"<iframe[^>]+/embed/"))

    # The project transcribes every video: the transcript arrives live; a click on a
    # line seeks the player there.
    transcript = page.locator("#transcript")
    line = transcript.locator("button.line").last
    expect(line).to_be_visible(timeout=90_000)
    expect(transcript).to_contain_text("upload the video")
    start = float(line.get_attribute("data-start") or "nan")
    assert start > 0
    frame.evaluate("document.querySelector('video').currentTime = 0")
    line.click()
    frame.wait_for_function(
        f"Math.abs(document.querySelector('video').currentTime - {start}) < 1.5"
    )

    # Edit the title.
    page.fill("#edit input[name=title]", "Launch teaser")
    page.click("#edit button[type=submit]")
    expect(page.locator(".pagehead h1")).to_have_text("Launch teaser")
    frame.evaluate("document.querySelector('video').pause()")
    snap(page, "video-page")

    # Delete, with the confirmation.
    page.click("[data-action=delete]")
    dialog = page.locator("dialog.dialog")
    expect(dialog).to_contain_text("Delete this video?")
    snap(page, "video-delete-confirm")
    dialog.locator("button", has_text="Delete video").click()
    expect(page).to_have_url(f"{base}/console/videos")
    expect(page.locator(f"tr.video-row[data-video='{video_id}']")).to_have_count(0)
    expect(page.locator("tr.video-row", has_text="b-roll.mp4")).to_be_visible()
    page.reload()
    expect(page.locator("tr.video-row", has_text="b-roll.mp4")).to_be_visible()
    expect(page.locator(f"tr.video-row[data-video='{video_id}']")).to_have_count(0)
    assert not page.errors  # type: ignore[attr-defined]
