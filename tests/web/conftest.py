"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium, installed by
`make setup`), against a real `streamcore serve` on SQLite and local disk.

Screenshots go to tests/web/screenshots/ (not committed): `shoot(page, name)` saves
one at 1280x800 and one at 375x812."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from streamcore.auth.bootstrap import ensure_user
from tests.fixtures.services import LiveServer, live_server, run_async, server_env, settings_of

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parent / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}


@dataclass
class Account:
    email: str
    password: str


# Module scope, not session: Playwright's sync API runs an event loop in this thread
# while it is started, and the asyncio tests that run after these need the thread free.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if shutil.which(CHROMIUM) is None:
        raise RuntimeError(f"{CHROMIUM} not found: `make setup` installs Debian's chromium")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--autoplay-policy=no-user-gesture-required", "--no-sandbox"],
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile per test (its own storage and cookies), at desktop size."""
    ctx = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    return page


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory, secret: str) -> Iterator[LiveServer]:
    """One server for the browser tests: SQLite, local disk, embedded worker."""
    data_dir = tmp_path_factory.mktemp("server-web")
    env = server_env(
        data_dir, f"sqlite+aiosqlite:///{data_dir / 'streamcore.db'}", secret,
        # The playback analytics tests read the rollups: fold beacons every second.
        STREAMCORE_ANALYTICS__ROLLUP_SECONDS="1",
    )  # fmt: skip
    with live_server(data_dir, env) as server:
        yield server


def make_account(server: LiveServer, email: str, *, superadmin: bool = False) -> Account:
    """A user with a known password (as `streamcore admin create-user` makes one)."""
    password = secrets.token_urlsafe(12)
    run_async(ensure_user(settings_of(server.env), email, password, superadmin))
    return Account(email, password)


def shoot(page: Page, name: str) -> None:
    """The page as it is now, at desktop and at phone size (then back to desktop)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    before = page.viewport_size or DESKTOP
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)  # type: ignore[arg-type]
        page.wait_for_timeout(150)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(before)  # type: ignore[arg-type]
