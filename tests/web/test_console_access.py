"""The console's account pages: API keys (the secret shown once, revoke), webhooks,
the admin pages for a super-admin, and none of them for a collaborator; the access
token is refreshed before it expires, without the user noticing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.fixtures.services import LiveServer
from tests.web.conftest import make_account
from tests.web.console_pages import api_token, create_project, sign_in, snap


def test_api_key_shown_once_then_revoked(page: Page, web_server: LiveServer) -> None:
    base = web_server.base_url
    sign_in(page, web_server, make_account(web_server, "keys@console.test"))
    create_project(page, web_server, "Keys")
    page.click("a[data-nav=keys]")
    expect(page).to_have_url(f"{base}/console/keys")
    expect(page.locator(".empty")).to_contain_text("No API keys")

    page.fill("#new-key input[name=name]", "CI uploader")
    page.uncheck("#new-key input[value=stream]")
    page.click("#new-key button[type=submit]")
    secret = page.locator("#key-created .secret-value")
    expect(secret).to_have_text(re.compile(r"^sk_"))
    expect(page.locator("#key-created")).to_contain_text("shown only this once")
    key = secret.inner_text()
    row = page.locator("#keys tbody tr", has_text="CI uploader")
    expect(row).to_contain_text("upload")
    expect(row).not_to_contain_text("stream")
    snap(page, "keys")
    # The key works, as an integrator uses it.
    headers = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{base}/videos", headers=headers, timeout=30).status_code == 200

    # Shown once: the list never shows it again.
    page.reload()
    expect(row).to_be_visible()
    expect(page.locator("#key-created .secret-value")).to_have_count(0)
    assert key not in page.content()

    row.locator("button", has_text="Revoke").click()
    page.locator("dialog.dialog button", has_text="Revoke").click()
    expect(row).to_have_count(0)
    expect(page.locator(".empty")).to_contain_text("No API keys")
    resp = httpx.get(f"{base}/videos", headers=headers, timeout=30)
    assert resp.status_code == 401, resp.text


def test_token_refreshed_before_it_expires(page: Page, web_server: LiveServer) -> None:
    sign_in(page, web_server, make_account(web_server, "refresh@console.test"))
    stored = json.loads(page.evaluate("localStorage.getItem('streamcore.console.auth')"))
    # Pretend the token expires in 62 s: the console refreshes a minute early.
    stored["expires_at"] = int(page.evaluate("Date.now()")) + 62_000
    page.evaluate(
        f"localStorage.setItem('streamcore.console.auth', {json.dumps(json.dumps(stored))})"
    )
    with page.expect_response(lambda r: r.url.endswith("/auth/refresh"), timeout=15_000) as resp:
        page.reload()
    assert resp.value.status == 200
    page.wait_for_function(
        "JSON.parse(localStorage.getItem('streamcore.console.auth')).access_token !== "
        f"{json.dumps(stored['access_token'])}"
    )
    # The page goes on with the new token: a page that calls the API still loads.
    page.click("a[data-nav=projects]")
    expect(page.locator(".pagehead h1")).to_have_text("Projects")
    # Signing out revokes the refresh token and returns to the sign-in page.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{web_server.base_url}/console/signin")


def test_webhooks_page(page: Page, web_server: LiveServer) -> None:
    sign_in(page, web_server, make_account(web_server, "hooks@console.test"))
    create_project(page, web_server, "Hooks")
    page.click("a[data-nav=webhooks]")
    expect(page.locator(".empty")).to_contain_text("No webhook endpoints")
    # A bad URL is refused in words.
    page.fill("#new-webhook input[name=url]", "http://127.0.0.1:9/hook")
    page.click("#new-webhook button[type=submit]")
    expect(page.locator(".toast.error")).to_be_visible()
    # A public address (no DNS on the test machine); nothing answers there.
    page.fill("#new-webhook input[name=url]", "https://93.184.215.14/streamcore")
    page.check("#new-webhook input[value='video.ready']")
    page.check("#new-webhook input[value='video.failed']")
    page.click("#new-webhook button[type=submit]")
    expect(page.locator("#webhook-created .secret-value")).to_have_text(re.compile(r"^whsec_"))
    row = page.locator("#webhooks tbody tr", has_text="93.184.215.14")
    expect(row).to_contain_text("video.ready")
    row.locator("[data-action=test]").click()
    deliveries = page.locator("#deliveries tbody tr", has_text="webhook.test")
    expect(deliveries).to_be_visible()
    row.locator("button", has_text="Disable").click()
    expect(row.locator(".badge")).to_have_text("disabled")
    snap(page, "webhooks")
    row.locator("button", has_text="Delete").click()
    page.locator("dialog.dialog button", has_text="Delete").click()
    expect(page.locator(".empty")).to_contain_text("No webhook endpoints")


def test_admin_pages_for_superadmin_only(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    base = web_server.base_url
    owner = make_account(web_server, "team-owner@console.test")
    token = api_token(web_server, owner)
    auth = {"Authorization": f"Bearer {token}"}
    project = httpx.post(f"{base}/projects", json={"name": "Team"}, headers=auth, timeout=30)
    assert project.status_code == 201, project.text
    # A file that is no video: its job fails for good (a job the admin may retry).
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00not a video" * 4096)
    with open(broken, "rb") as f:
        up = httpx.post(
            f"{base}/{project.json()['id']}/upload",
            files={"file": ("broken.mp4", f, "video/mp4")},
            headers=auth,
            timeout=60,
        )
    assert up.status_code == 201, up.text

    # A collaborator of the owner's organization.
    collab = make_account(web_server, "collab@console.test")
    org = project.json()["organization_id"]
    inv = httpx.post(
        f"{base}/organizations/{org}/invitations",
        json={"email": collab.email, "role": "collaborator"},
        headers=auth,
        timeout=30,
    )
    assert inv.status_code == 201, inv.text
    collab_auth = {"Authorization": f"Bearer {api_token(web_server, collab)}"}
    accepted = httpx.post(f"{base}/invitations/{inv.json()['id']}/accept", headers=collab_auth)
    assert accepted.status_code in (200, 201, 204), accepted.text

    # The collaborator follows a link to the admin page: sign in first, then a clear no.
    page.goto(f"{base}/console/admin")
    expect(page).to_have_url(f"{base}/console/signin?next=%2Fadmin")
    page.fill("input[name=email]", collab.email)
    page.fill("input[name=password]", collab.password)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/console/admin")
    expect(page.locator("#not-allowed")).to_contain_text("Not allowed")
    expect(page.locator("#stats")).to_have_count(0)
    expect(page.locator("a[data-nav=admin]")).to_have_count(0)
    snap(page, "admin-not-allowed")
    page.click("a[data-nav=videos]")
    expect(page.locator(".topbar .crumb")).to_have_text("Team")
    broken_row = page.locator("tr.video-row", has_text="broken.mp4")
    expect(broken_row).to_have_attribute("data-status", "failed", timeout=30_000)
    expect(page.locator("a[data-nav=admin]")).to_have_count(0)
    # Its page says why, in words: the error class and message.
    broken_row.locator("a.title").click()
    expect(page.locator("#status .errorbox")).to_contain_text("ProbeFailed")
    expect(page.locator("#status .errorbox")).to_contain_text("not a readable media file")
    snap(page, "video-failed")
    # The API refuses too: the page only says what the server enforces.
    assert httpx.get(f"{base}/admin/stats", headers=collab_auth).status_code == 403

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, web_server, make_account(web_server, "ops@console.test", superadmin=True))
    page.click("a[data-nav=admin]")
    expect(page.locator(".figure", has_text="Workers")).to_be_visible()
    expect(page.locator(".figure", has_text="Active consumers")).to_be_visible()
    expect(page.locator(".figure", has_text="Lag")).to_be_visible()
    failed = page.locator("#job-list tr", has_text="failed").first
    expect(failed).to_be_visible(timeout=30_000)
    page.reload()
    expect(page.locator("#failures")).to_contain_text("ProbeFailed")
    expect(page.locator("#jobs-by-status")).to_contain_text("failed")
    snap(page, "admin")
    job_id = page.locator("#job-list tr", has_text="failed").first.get_attribute("data-job")
    page.locator(f"#job-list tr[data-job='{job_id}'] [data-action=retry]").click()
    expect(page.locator(".toast.ok", has_text="Job queued again")).to_be_visible()
    page.click("[data-action=replay-dlq]")
    page.locator("dialog.dialog button", has_text="Replay").click()
    expect(page.locator(".toast.ok", has_text="DLQ")).to_be_visible()
