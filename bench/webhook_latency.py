"""Time from a committed state change to the first webhook delivery attempt, over
200 videos, in embedded mode (`streamcore serve`, SQLite) and Kafka mode (an API node
and one `streamcore worker` on Tansu, PostgreSQL, Redis). Goal: p99 <= 2 s.

    .venv/bin/python -m bench.webhook_latency [--videos 200] [--mode embedded|kafka|both]

Each video is a presigned upload (`POST /uploads/presign`), which commits
`video.created`; a receiver on 127.0.0.2 (verifying with standardwebhooks) records
when each message first arrives. The latency is that arrival minus the event's
timestamp, which is taken just before the commit (so it is slightly pessimistic).
Videos are created by 4 client threads.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path

import httpx
from tests.fixtures.cluster import cluster, kafka_env
from tests.fixtures.datastores import session_redis_url
from tests.fixtures.kafka import start_broker
from tests.fixtures.services import LiveServer, live_server, postgres_database, server_env
from tests.webhooks.receiver import Received, Receiver, receiver

GOAL_SECONDS = 2.0
HOOK_ENV = {
    "STREAMCORE_WEBHOOKS__ALLOW_NETWORKS": "127.0.0.2/32",
    "STREAMCORE_LOG_LEVEL": "WARNING",
}


@contextmanager
def embedded(tmp: Path) -> Iterator[LiveServer]:
    env = server_env(tmp, f"sqlite+aiosqlite:///{tmp / 'db.sqlite'}", "bench-secret", **HOOK_ENV)
    with live_server(tmp, env) as srv:
        yield srv


@contextmanager
def kafka(tmp: Path) -> Iterator[LiveServer]:
    with ExitStack() as stack:
        (tmp / "tansu").mkdir()
        broker = start_broker(tmp / "tansu")
        stack.callback(broker.kill)
        redis = session_redis_url()  # STREAMCORE_TEST_REDIS_URL, or a throwaway one
        env = kafka_env(broker, redis, **HOOK_ENV)
        db_url = stack.enter_context(postgres_database())
        running = stack.enter_context(cluster(tmp / "c", db_url, "bench-secret", env, workers=1))
        yield running.api


def measure(srv: LiveServer, rcv: Receiver, videos: int) -> list[float]:
    headers = srv.auth_headers
    with httpx.Client(base_url=srv.base_url, timeout=60, headers=headers) as client:
        project = client.post("/projects", json={"name": "bench"}).json()["id"]
        hook = client.post(
            f"/projects/{project}/webhooks",
            json={"url": rcv.url("/bench"), "event_types": ["video.created"]},
        ).json()
        rcv.routes["/bench"].secret = hook["secret"]

        def one(i: int) -> None:
            body = {"project_id": project, "filename": f"v{i}.mp4", "size": 1000}
            resp = client.post("/uploads/presign", json=body)
            assert resp.status_code == 201, resp.text

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(one, range(videos)))
        got = rcv.wait_for(
            "/bench", lambda r: len({x.message_id for x in r}) >= videos, timeout=120
        )
        split(client, project, hook["id"], got)
    first: dict[str, float] = {}
    for record in got:
        assert record.payload is not None, record.error
        occurred = datetime.fromisoformat(record.payload["timestamp"]).timestamp()
        first.setdefault(record.message_id, record.at - occurred)
    return sorted(first.values())


def split(client: httpx.Client, project: str, hook: str, got: list[Received]) -> None:
    """Where the time goes: event -> delivery row (fan-out), row -> first attempt."""
    occurred = {
        r.message_id: datetime.fromisoformat(r.payload["timestamp"]).timestamp()
        for r in got
        if r.payload is not None
    }
    fanout, queued, cursor = [], [], None
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/projects/{project}/webhooks/{hook}/deliveries", params=params).json()
        for d in page["items"]:
            made = datetime.fromisoformat(d["created_at"]).timestamp()
            tried = datetime.fromisoformat(d["last_attempt_at"]).timestamp()
            fanout.append(made - occurred[d["message_id"]])
            queued.append(tried - made)
        cursor = page["next_cursor"]
        if not cursor:
            break
    for name, values in (("fan-out", fanout), ("queue+claim", queued)):
        values.sort()
        print(f"  {name:12s} p50={values[len(values) // 2]:.3f}s max={values[-1]:.3f}s")


def report(mode: str, lags: list[float]) -> None:
    q = statistics.quantiles(lags, n=100, method="inclusive")
    print(
        f"{mode:9s} n={len(lags)} p50={q[49]:.3f}s p99={q[98]:.3f}s max={lags[-1]:.3f}s "
        f"p99/goal {q[98] / GOAL_SECONDS:.2f}x (goal p99 <= {GOAL_SECONDS:g} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--videos", type=int, default=200)
    parser.add_argument("--mode", choices=["embedded", "kafka", "both"], default="both")
    args = parser.parse_args()
    modes = ["embedded", "kafka"] if args.mode == "both" else [args.mode]
    for mode in modes:
        with tempfile.TemporaryDirectory() as d, receiver("127.0.0.2") as rcv:
            start = embedded if mode == "embedded" else kafka
            with start(Path(d)) as srv:
                t0 = time.monotonic()
                lags = measure(srv, rcv, args.videos)
                took = time.monotonic() - t0
            report(mode, lags)
            print(f"{'':9s} {args.videos} videos created and delivered in {took:.1f}s")


if __name__ == "__main__":
    main()
