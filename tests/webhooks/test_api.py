"""`/projects/{id}/webhooks` in process on PostgreSQL: endpoints, secrets, SSRF
refusals at creation, the delivery log with its cursor, retry and test messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from streamcore.auth import service as auth
from streamcore.config import WebhookSettings
from streamcore.organizations import service as organizations
from streamcore.projects import service as projects
from streamcore.webhooks.delivery import Dispatcher
from streamcore.webhooks.fanout import fan_out_outbox
from tests.auth.conftest import Api, auth_settings, running_api
from tests.fixtures.sentinel import counting_server
from tests.webhooks.receiver import Receiver


@pytest.fixture(scope="module")
async def hooks_api(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> AsyncIterator[Api]:
    base = auth_settings(tmp_path_factory.mktemp("hooks-api"), pg_url)
    webhooks = {"allow_networks": "127.0.0.2/32", "retry_schedule_seconds": [30.0]}
    settings = base.model_copy(update={"webhooks": WebhookSettings(**webhooks)})  # type: ignore[arg-type]
    async with running_api(settings) as built:
        yield built


@pytest.fixture(scope="module")
async def owner(hooks_api: Api) -> tuple[dict[str, str], str]:
    infra = hooks_api.infra
    async with infra.transaction() as s:
        user = await auth.create_user(s, infra, "hooks-owner@a.example", "owner password")
        org = await organizations.create_organization(s, "Hooks org", user.id)
        project = await projects.create_project(s, "hooks", org.id)
    return {"Authorization": f"Bearer {infra.access_tokens.issue(user.id)}"}, project.id


async def test_an_endpoint_is_created_listed_changed_and_deleted(
    hooks_api: Api, owner: tuple[dict[str, str], str], hook_receiver: Receiver
) -> None:
    headers, project = owner
    base = f"/projects/{project}/webhooks"
    async with hooks_api.client(headers=headers) as c:
        resp = await c.post(base, json={"url": hook_receiver.url("/a"), "description": "ci"})
        assert resp.status_code == 201, resp.text
        created = resp.json()
        assert created["secret"].startswith("whsec_")
        assert created["event_types"] is None
        listed = (await c.get(base)).json()
        assert [e["id"] for e in listed] == [created["id"]]
        assert "secret" not in listed[0]  # shown once
        one = await c.get(f"{base}/{created['id']}")
        assert one.status_code == 200
        assert "secret" not in one.json()
        patched = await c.patch(
            f"{base}/{created['id']}", json={"event_types": ["video.ready"], "enabled": False}
        )
        assert patched.status_code == 200
        assert patched.json()["event_types"] == ["video.ready"]
        assert not patched.json()["enabled"]
        bad = await c.patch(f"{base}/{created['id']}", json={"event_types": ["video.exploded"]})
        assert bad.status_code == 422
        assert bad.json()["error"] == "ValidationError"
        assert (await c.delete(f"{base}/{created['id']}")).status_code == 204
        gone = await c.get(f"{base}/{created['id']}")
        assert gone.status_code == 404
        assert gone.json()["error"] == "NotFound"


async def test_forbidden_addresses_are_refused_and_never_contacted(
    hooks_api: Api, owner: tuple[dict[str, str], str]
) -> None:
    headers, project = owner
    with counting_server() as sentinel:
        port = sentinel.port
        urls = [
            f"http://127.0.0.1:{port}/hook",
            f"http://localhost:{port}/hook",  # a DNS name that resolves to loopback
            f"http://[::1]:{port}/hook",
            f"http://[::ffff:127.0.0.1]:{port}/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://[fd00:ec2::254]/latest/meta-data/",
            "http://168.63.129.16/machine",
            f"http://2130706433:{port}/hook",  # decimal 127.0.0.1
            f"http://0177.0.0.1:{port}/hook",  # octal
            f"http://0x7f.0.0.1:{port}/hook",  # hex
            f"http://127.1:{port}/hook",  # short form
            f"http://0.0.0.0:{port}/hook",
            "http://10.0.0.1/hook",
            "http://192.168.1.1/hook",
            "http://172.16.0.1/hook",
            "http://169.254.1.1/hook",  # link-local
            "http://224.0.0.1/hook",
            f"http://127.0.0.3:{port}/hook",  # loopback, not allowlisted
            "ftp://127.0.0.2/hook",
            "file:///etc/passwd",
            "not a url",
        ]
        async with hooks_api.client(headers=headers) as c:
            for url in urls:
                resp = await c.post(f"/projects/{project}/webhooks", json={"url": url})
                assert resp.status_code == 400, (url, resp.text)
                assert resp.json()["error"] == "BadRequest"
            listed = await c.get(f"/projects/{project}/webhooks")
        assert sentinel.connections == []
    assert all(e["url"] not in urls for e in listed.json())


async def test_rotation_signs_with_both_secrets(
    hooks_api: Api, owner: tuple[dict[str, str], str], hook_receiver: Receiver
) -> None:
    headers, project = owner
    base = f"/projects/{project}/webhooks"
    async with hooks_api.client(headers=headers) as c:
        created = (await c.post(base, json={"url": hook_receiver.url("/rot")})).json()
        rotated = await c.post(f"{base}/{created['id']}/rotate-secret")
        assert rotated.status_code == 200
        new = rotated.json()["secret"]
        assert new != created["secret"]
        assert new.startswith("whsec_")
    for secret in (created["secret"], new):  # each secret alone verifies the message
        hook_receiver.routes["/rot"].secret = secret
        async with hooks_api.client(headers=headers) as c:
            sent = (await c.post(f"{base}/{created['id']}/test")).json()
        await _deliver(hooks_api)
        got = [r for r in hook_receiver.of("/rot") if r.message_id == sent["message_id"]]
        assert len(got) == 1
        assert got[0].error is None
        assert got[0].type == "webhook.test"
        assert len(got[0].signature.split(" ")) == 2


async def _deliver(api: Api) -> None:
    """What the worker does: fan out, claim, attempt (and wait), until nothing is due."""
    await fan_out_outbox(api.infra)
    dispatcher = Dispatcher(api.infra)
    while attempts := await dispatcher.claim():
        for attempt in attempts:
            await dispatcher.attempt(attempt)


async def test_the_delivery_log_pages_and_a_delivery_can_be_retried(
    hooks_api: Api, owner: tuple[dict[str, str], str], hook_receiver: Receiver
) -> None:
    headers, project = owner
    base = f"/projects/{project}/webhooks"
    async with hooks_api.client(headers=headers) as c:
        created = (await c.post(base, json={"url": hook_receiver.url("/log")})).json()
        hook_receiver.routes["/log"].secret = created["secret"]
        hook_receiver.routes["/log"].status = 500
        wid = created["id"]
        for _ in range(5):
            assert (await c.post(f"{base}/{wid}/test")).status_code == 202
        await _deliver(hooks_api)
        seen, cursor = [], None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await c.get(f"{base}/{wid}/deliveries", params=params)).json()
            seen += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == 5
        assert len({d["id"] for d in seen}) == 5
        assert [d["created_at"] for d in seen] == sorted(
            (d["created_at"] for d in seen), reverse=True
        )
        first = seen[0]
        assert first["status"] == "pending"
        assert first["attempts"] == 1
        assert first["last_status_code"] == 500
        assert first["next_attempt_at"] is not None
        assert first["last_latency_ms"] is not None
        bad = await c.get(f"{base}/{wid}/deliveries", params={"cursor": "!!"})
        assert bad.status_code == 400
        hook_receiver.routes["/log"].status = 200
        retried = await c.post(f"{base}/{wid}/deliveries/{first['id']}/retry")
        assert retried.status_code == 202
        assert retried.json()["attempts"] == 0
        await _deliver(hooks_api)
        again = [r for r in hook_receiver.of("/log") if r.message_id == first["message_id"]]
        assert len(again) == 2
        assert again[-1].error is None
        missing = await c.post(f"{base}/{wid}/deliveries/nope/retry")
        assert missing.status_code == 404


def test_the_default_settings_refuse_loopback(tmp_path: Path) -> None:
    from streamcore.config import Settings

    assert Settings(_env_file=None, data_dir=tmp_path).webhooks.allow_networks == ""  # type: ignore[call-arg]
