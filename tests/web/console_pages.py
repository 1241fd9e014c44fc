"""Steps the console tests share: sign in through the page, make a project through the
page, clips for the uploads."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.fixtures.media import ffmpeg
from tests.fixtures.services import LiveServer
from tests.web.conftest import Account, shoot


def sign_in(page: Page, server: LiveServer, account: Account) -> None:
    page.goto(f"{server.base_url}/console")
    expect(page).to_have_url(f"{server.base_url}/console/signin")
    page.fill("input[name=email]", account.email)
    page.fill("input[name=password]", account.password)
    page.click("button[type=submit]")
    expect(page.locator(".topbar .user")).to_contain_text(account.email)


def create_project(page: Page, server: LiveServer, name: str, *, transcribe: bool = False) -> None:
    page.goto(f"{server.base_url}/console/projects")
    page.fill("#new-project input[name=name]", name)
    if transcribe:
        page.check("#new-project input[name=auto_transcribe]")
    page.click("#new-project button[type=submit]")
    expect(page).to_have_url(f"{server.base_url}/console/videos")
    expect(page.locator(".topbar .crumb")).to_have_text(name)


def api_token(server: LiveServer, account: Account) -> str:
    resp = httpx.post(
        f"{server.base_url}/auth/login",
        json={"email": account.email, "password": account.password},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


def lossless_clip(path: Path, seconds: float = 5) -> Path:
    """A 1280x720 clip in lossless H.264: ~2 MB a second, so it takes several tus
    chunks (the console sends 5 MiB per PATCH)."""
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p",
        str(path),
    )  # fmt: skip
    return path


def snap(page: Page, name: str) -> None:
    """shoot() of the page from its top, without the toasts of the steps before."""
    page.evaluate("document.querySelectorAll('.toast').forEach(t => t.remove()); scrollTo(0, 0)")
    shoot(page, name)
