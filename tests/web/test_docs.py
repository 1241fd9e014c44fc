"""/docs works offline: Swagger UI comes from the server's own static files (the test
fails on any request to another host), lists the operations, and Authorize with a
bearer token makes "Try it out" calls that the API accepts."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route

from tests.fixtures.services import LiveServer
from tests.web.conftest import shoot

pytestmark = pytest.mark.slow


def test_docs_render_from_local_assets_and_authorize_works(
    page: Page, web_server: LiveServer
) -> None:
    here = urlsplit(web_server.base_url).netloc
    elsewhere: list[str] = []

    def guard(route: Route) -> None:
        if urlsplit(route.request.url).netloc != here:
            elsewhere.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", guard)
    page.goto(f"{web_server.base_url}/docs")
    page.locator(".opblock").first.wait_for(timeout=30_000)
    assert page.locator(".opblock").count() > 40
    assert page.locator(".opblock-summary-path", has_text="/videos/{video_id}").count() >= 1
    shoot(page, "docs")

    page.locator("button.authorize").first.click()
    dialog = page.locator(".dialog-ux")
    dialog.wait_for()
    assert dialog.locator("text=HTTPBearer").count() >= 1
    assert dialog.locator("text=APIKeyHeader").count() >= 1
    shoot(page, "docs-authorize")
    bearer = dialog.locator(".auth-container", has_text="HTTPBearer")
    bearer.locator("input").fill(web_server.token)
    bearer.locator("button.authorize").click()
    dialog.locator("button.btn-done").first.click()

    path = page.locator(".opblock-summary-path", has_text="/auth/me")
    me = page.locator(".opblock-get", has=path)
    me.first.locator(".opblock-summary").click()
    me.first.locator("button.try-out__btn").click()
    with page.expect_response(lambda r: r.url.endswith("/auth/me")) as answer:
        me.first.locator("button.execute").click()
    assert answer.value.status == 200
    assert answer.value.request.headers["authorization"] == f"Bearer {web_server.token}"
    assert elsewhere == []
    assert page.errors == []  # type: ignore[attr-defined]
