"""A dropped upload resumes: the connection is cut after about half the file (the tus
PATCH of the second chunk is aborted), the page is reloaded, the console offers the
unfinished upload, the user picks the file again and it continues from the offset the
server kept. The stored source is byte-identical to the file."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, Request, Route, expect

from tests.fixtures.services import LiveServer
from tests.web.conftest import make_account
from tests.web.console_pages import create_project, lossless_clip, sign_in, snap

CHUNK = 5 * 1024 * 1024  # the console's tus chunk size (upload.js CHUNK_BYTES)


def test_dropped_upload_resumes_after_reload(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    clip = lossless_clip(tmp_path / "long-take.mp4", seconds=5)
    size = clip.stat().st_size
    assert CHUNK < size <= 2 * CHUNK, size  # two PATCHes: the cut falls at ~50 %
    sign_in(page, web_server, make_account(web_server, "resumer@console.test"))
    create_project(page, web_server, "Resumable")

    cut: list[str] = []

    def drop_second_chunk(route: Route, request: Request) -> None:
        if request.method == "PATCH" and request.headers.get("upload-offset") != "0":
            cut.append(request.headers["upload-offset"])
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/uploads/tus/**", drop_second_chunk)
    page.set_input_files("#file-input", str(clip))
    upload = page.locator(".upload-row", has_text="long-take.mp4")
    expect(upload).to_have_attribute("data-sent", str(CHUNK), timeout=30_000)
    deadline = time.monotonic() + 20
    while not cut and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert cut == [str(CHUNK)] or cut[:1] == [str(CHUNK)], cut
    percent = int(upload.locator(".progress").get_attribute("aria-valuenow") or "0")
    assert 40 <= percent <= 60, percent
    snap(page, "upload-in-progress")
    asset_id = upload.get_attribute("data-asset")
    assert asset_id

    # The connection is gone; the user reloads the page.
    page.unroute("**/uploads/tus/**")
    page.reload()
    offer = page.locator(".offer[data-offer='long-take.mp4']")
    expect(offer).to_be_visible()
    expect(offer).to_have_attribute("data-offset", str(CHUNK))
    expect(offer).to_contain_text(f"{CHUNK * 100 // size} % uploaded")
    snap(page, "upload-resume-offer")

    patches: list[str] = []
    page.on(
        "request",
        lambda r: (
            patches.append(r.headers.get("upload-offset", "?")) if r.method == "PATCH" else None
        ),
    )
    offer.locator("input[type=file]").set_input_files(str(clip))
    resumed = page.locator(".upload-row.done", has_text="long-take.mp4")
    expect(resumed).to_be_visible(timeout=30_000)
    # Only the second half went over the wire again.
    assert patches == [str(CHUNK)], patches
    assert resumed.get_attribute("data-asset") == asset_id

    source = web_server.data_dir / "objects" / "assets" / asset_id / "source"
    deadline = time.monotonic() + 30
    while not source.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert source.read_bytes() == clip.read_bytes()
    # Its transcode is not this test's business: stop it (the other tests share the CPU).
    token = page.evaluate(
        "JSON.parse(localStorage.getItem('streamcore.console.auth')).access_token"
    )
    deleted = httpx.delete(
        f"{web_server.base_url}/videos/{asset_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert deleted.status_code == 202, deleted.text
    # The upload is done: a reload offers nothing any more.
    page.reload()
    expect(page.locator(".dropzone")).to_be_visible()
    expect(page.locator(".offer")).to_have_count(0)
