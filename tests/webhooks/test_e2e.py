"""Webhooks on real processes: `streamcore serve` (embedded) and an API node with
`streamcore worker`s on Kafka, against a receiver that verifies every message with the
standardwebhooks library. The receiver listens on 127.0.0.2, the one loopback address
these servers allow (STREAMCORE_WEBHOOKS__ALLOW_NETWORKS); the backoff schedule is short."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from tests.fixtures.cluster import cluster, kafka_env
from tests.fixtures.kafka import Broker
from tests.fixtures.services import live_server, postgres_database, server_env
from tests.helpers import create_project, upload, wait_final
from tests.webhooks.receiver import Received, Receiver, receiver

pytestmark = pytest.mark.slow

LIFE = ["video.created", "video.uploaded", "video.playable", "video.ready"]
SCHEDULE = json.dumps([1, 2] + [4] * 20)


def hook_env(**extra: str) -> dict[str, str]:
    return {
        "STREAMCORE_WEBHOOKS__ALLOW_NETWORKS": "127.0.0.2/32",
        "STREAMCORE_WEBHOOKS__RETRY_SCHEDULE_SECONDS": SCHEDULE,
        "STREAMCORE_WEBHOOKS__POLL_INTERVAL_SECONDS": "0.1",
        **extra,
    }


@pytest.fixture
def hook_receiver() -> Iterator[Receiver]:
    with receiver("127.0.0.2") as r:
        yield r


def add_endpoint(client: httpx.Client, project: str, rcv: Receiver, path: str) -> dict[str, str]:
    resp = client.post(f"/projects/{project}/webhooks", json={"url": rcv.url(path)})
    assert resp.status_code == 201, resp.text
    created: dict[str, str] = resp.json()
    rcv.routes[path].secret = created["secret"]
    return created


def lifecycle_of(got: list[Received], video_id: str) -> dict[str, Received]:
    """The first verified message of each event type of the video."""
    out: dict[str, Received] = {}
    for record in got:
        if record.payload is not None and record.payload["data"].get("id") == video_id:
            out.setdefault(record.type, record)
    return out


def assert_tamper_fails(record: Received, secret: str) -> None:
    """The receiver's library refuses the message once its body or timestamp changes."""
    headers = record.headers
    Webhook(secret).verify(record.body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(record.body.replace(b'"video.', b'"videx.', 1), headers)
    old = {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) - 600)}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(record.body, old)


def test_embedded_every_event_arrives_after_60_s_of_refused_connections(
    tmp_path: Path, media: Path, secret: str, hook_receiver: Receiver
) -> None:
    env = server_env(
        tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", secret, **hook_env()
    )
    with (
        live_server(tmp_path, env) as srv,
        httpx.Client(base_url=srv.base_url, timeout=60, headers=srv.auth_headers) as client,
    ):
        project = create_project(client)
        endpoint = add_endpoint(client, project, hook_receiver, "/hook")
        hook_receiver.stop()  # connections refused from now on
        down_at = time.monotonic()
        video = upload(client, project, media / "short360.mp4")
        assert wait_final(client, video["id"])["status"] == "ready"
        log = client.get(f"/projects/{project}/webhooks/{endpoint['id']}/deliveries").json()
        assert {d["status"] for d in log["items"]} == {"pending"}
        assert all(d["last_error"] for d in log["items"] if d["attempts"])
        time.sleep(max(0.0, 60 - (time.monotonic() - down_at)))
        assert hook_receiver.received == []
        hook_receiver.start()  # back, on the same port
        got = hook_receiver.wait_for(
            "/hook", lambda r: set(LIFE) <= set(lifecycle_of(r, video["id"])), timeout=40
        )
        events = lifecycle_of(got, video["id"])
        assert all(events[t].error is None for t in LIFE)
        assert len({events[t].message_id for t in LIFE}) == 4
        assert events["video.ready"].payload is not None
        assert events["video.ready"].payload["data"]["status"] == "ready"
        assert_tamper_fails(events["video.ready"], endpoint["secret"])
        log = client.get(f"/projects/{project}/webhooks/{endpoint['id']}/deliveries").json()
        retried = [d for d in log["items"] if d["status"] == "succeeded" and d["attempts"] > 1]
        assert retried, log


@pytest.mark.timeout(300)
def test_kafka_sigkill_mid_request_redelivers_with_the_same_webhook_id(
    tmp_path: Path,
    media: Path,
    secret: str,
    broker: Broker,
    redis_url: str,
    hook_receiver: Receiver,
) -> None:
    env = kafka_env(broker, redis_url, **hook_env(
        STREAMCORE_WEBHOOKS__TIMEOUT_SECONDS="3", STREAMCORE_WEBHOOKS__LEASE_MARGIN_SECONDS="1",
    ))  # fmt: skip
    hold = threading.Event()
    with (
        postgres_database() as db_url,
        cluster(tmp_path, db_url, secret, env, workers=1) as run,
        httpx.Client(base_url=run.api.base_url, timeout=60, headers=run.api.auth_headers) as client,
    ):
        project = create_project(client)
        endpoint = add_endpoint(client, project, hook_receiver, "/k")
        hook_receiver.routes["/k"].hold = hold  # the first request hangs
        video = upload(client, project, media / "short360.mp4")
        first = hook_receiver.wait_for("/k", lambda r: len(r) >= 1, timeout=60)[0]
        assert first.error is None
        run.workers[0].sigkill()  # mid-request
        hook_receiver.routes["/k"].hold = None
        hold.set()
        run.start_worker()
        assert wait_final(client, video["id"], timeout=180)["status"] == "ready"
        got = hook_receiver.wait_for(
            "/k", lambda r: set(LIFE) <= set(lifecycle_of(r, video["id"])), timeout=90
        )
        again = [r for r in got if r.message_id == first.message_id]
        assert len(again) >= 2
        assert all(r.error is None for r in again)
        events = lifecycle_of(got, video["id"])
        assert all(events[t].error is None for t in LIFE)
        assert_tamper_fails(events["video.uploaded"], endpoint["secret"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            log = client.get(f"/projects/{project}/webhooks/{endpoint['id']}/deliveries")
            items = log.json()["items"]
            if items and {d["status"] for d in items} == {"succeeded"}:
                break
            time.sleep(0.5)
        assert {d["event_type"] for d in items} >= set(LIFE), items
        assert {d["status"] for d in items} == {"succeeded"}, items
