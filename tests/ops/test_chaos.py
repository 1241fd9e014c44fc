"""Chaos: uploads through 2 API nodes and 2 workers on PostgreSQL, SeaweedFS, Tansu and
Redis (each of its own), while a driver SIGKILLs and restarts random API nodes and
workers, and restarts the broker, Redis, SeaweedFS and PostgreSQL once each. At the end
every accepted upload is ready with exactly one set of outputs, no job ran to completion
twice, no FFmpeg is left running and no work directory is left behind.

A short form runs in make test; the full one (100 uploads) is opt-in:
STREAMCORE_CHAOS_UPLOADS=100 .venv/bin/pytest tests/ops/test_chaos.py -s"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest
from aiobotocore.session import get_session

from streamcore.auth.bootstrap import ensure_user
from tests.fixtures.cluster import kafka_env
from tests.fixtures.datastores import Postgres, Redis, start_postgres, start_redis
from tests.fixtures.kafka import Broker, start_broker
from tests.fixtures.object_stores import S3Server, seaweedfs
from tests.fixtures.services import free_port, server_env, settings_of

pytestmark = pytest.mark.slow

UPLOADS = int(os.environ.get("STREAMCORE_CHAOS_UPLOADS", "4"))
SEED = int(os.environ.get("STREAMCORE_CHAOS_SEED", "18"))
# A node or worker kill every this many seconds (besides one restart of each service).
KILL_EVERY = float(os.environ.get("STREAMCORE_CHAOS_KILL_EVERY", "3"))


@dataclass
class Node:
    """An API node (`serve --no-worker`) or a worker, restartable, same port."""

    kind: str
    env: dict[str, str]
    log_path: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    kills: int = 0
    groups: list[int] = field(default_factory=list)

    def start(self) -> None:
        args = ["worker"]
        if self.kind == "api":
            args = ["serve", "--no-worker", "--workers", "1", "--port", str(self.port)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "streamcore", *args], env=self.env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.groups.append(self.process.pid)

    def sigkill(self) -> None:
        """An API node's machine dies (Granian's HTTP worker with it: SIGKILL to the
        group). A worker: only the process itself, so its FFmpeg must die by itself
        (parent-death signal)."""
        assert self.process is not None
        if self.kind == "api":
            os.killpg(self.process.pid, signal.SIGKILL)
        else:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def leftovers(self) -> list[int]:
        """Processes of any group this node ever started that still run."""
        found = []
        for proc in psutil.process_iter(["status"]):
            with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError):
                if os.getpgid(proc.pid) in self.groups and proc.info["status"] != "zombie":
                    found.append(proc.pid)
        return found

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.sigkill()


@dataclass
class Services:
    pg: Postgres
    redis: Redis
    broker: Broker
    s3: S3Server
    restarts: collections.Counter[str] = field(default_factory=collections.Counter)

    def restart(self, name: str) -> None:
        {"postgres": self.pg, "redis": self.redis, "broker": self.broker}.get(
            name, self.s3
        ).restart_after(1.0)
        self.restarts[name] += 1


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    with ExitStack() as stack:
        pg = start_postgres()
        stack.callback(pg.destroy)
        redis = start_redis()
        stack.callback(redis.destroy)
        broker = start_broker(tmp_path)
        stack.callback(broker.kill)
        s3 = stack.enter_context(seaweedfs(tmp_path / "seaweedfs"))
        yield Services(pg, redis, broker, s3)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(check: Callable[[], object], timeout: float, what: str | Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {what() if callable(what) else what}")
        time.sleep(0.3)


class Driver(threading.Thread):
    """Kills a random API node or worker every KILL_EVERY s and restarts it; restarts
    each service once, spread over the run."""

    def __init__(self, nodes: list[Node], services: Services, rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.nodes, self.services, self.rng = nodes, services, rng
        self.pending = ["broker", "redis", "s3", "postgres"]
        rng.shuffle(self.pending)
        self.stopped = threading.Event()
        self.errors: list[BaseException] = []

    def run(self) -> None:
        try:
            while not self.stopped.wait(KILL_EVERY):
                node = self.rng.choice(self.nodes)
                node.sigkill()
                time.sleep(0.5)
                node.start()
                if self.pending and not self.stopped.wait(KILL_EVERY / 2):
                    self.services.restart(self.pending.pop())
        except BaseException as exc:  # reported by the test
            self.errors.append(exc)


def _upload(ports: list[int], token: str, project: str, clip: Path, rng: random.Random) -> str:
    """One form upload through a random live API node; retried until a node accepts it
    (a request cut by a kill is not an accepted upload)."""
    deadline = time.monotonic() + 120
    seen: list[str] = []
    while time.monotonic() < deadline:
        port = rng.choice(ports)
        try:
            with open(clip, "rb") as f:
                resp = httpx.post(
                    f"http://127.0.0.1:{port}/{project}/upload",
                    files={"file": (clip.name, f, "video/mp4")},
                    headers={"Authorization": f"Bearer {token}"}, timeout=30,
                )  # fmt: skip
            if resp.status_code == 201:
                return str(resp.json()["id"])
            seen.append(f"{port}: {resp.status_code} {resp.text[:200]}")
        except httpx.HTTPError as exc:
            seen.append(f"{port}: {type(exc).__name__}")
        time.sleep(0.3)
    raise AssertionError(f"no API node accepted an upload for 120 s; last answers: {seen[-5:]}")


def _statuses(ports: list[int], token: str, ids: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for vid in ids:
        for port in ports:
            try:
                resp = httpx.get(
                    f"http://127.0.0.1:{port}/videos/{vid}",
                    headers={"Authorization": f"Bearer {token}"}, timeout=10,
                )  # fmt: skip
                if resp.status_code == 200:
                    out[vid] = str(resp.json()["status"])
                    break
            except httpx.HTTPError:
                continue
    return out


def _refs(text: str) -> set[str]:
    return {ln for ln in text.splitlines() if ln and not ln.startswith("#")}


async def _extra_outputs(s3: S3Server, bucket: str, video_ids: list[str]) -> dict[str, list[str]]:
    """Per video, HLS objects in the bucket that its playlists do not refer to (a second
    run's rungs or segments): empty when there is exactly one set of outputs."""
    async with get_session().create_client(
        "s3", endpoint_url=s3.endpoint_url, region_name="us-east-1",
        aws_access_key_id=s3.access_key, aws_secret_access_key=s3.secret_key,
    ) as client:  # fmt: skip

        async def text(key: str) -> str:
            obj = await client.get_object(Bucket=bucket, Key=key)
            async with obj["Body"] as body:
                return (await body.read()).decode()

        extra: dict[str, list[str]] = {}
        for vid in video_ids:
            hls = f"assets/{vid}/hls/"
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=hls)
            keys = {o["Key"] async for page in pages for o in page.get("Contents", [])}
            master = await text(f"{hls}master.m3u8")
            wanted = {f"{hls}master.m3u8"} | {f"{hls}{r}" for r in _refs(master)}
            wanted |= {f"{hls}{u}" for u in re.findall(r'URI="([^"]+)"', master)}
            for playlist in [k for k in wanted if k.endswith(".m3u8") and k != f"{hls}master.m3u8"]:
                folder = playlist.rsplit("/", 1)[0]
                wanted |= {f"{folder}/{r}" for r in _refs(await text(playlist))}
            missing = wanted - keys
            assert not missing, (vid, sorted(missing))
            extra[vid] = sorted(keys - wanted)
        return extra


async def _ready_events(dsn: str) -> collections.Counter[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT key, payload FROM outbox_events")
    finally:
        await conn.close()
    import json

    return collections.Counter(
        r["key"] for r in rows if json.loads(r["payload"]).get("type") == "video.ready"
    )


def _completions(logs: list[Path]) -> collections.Counter[str]:
    """Succeeded attempts per job id, from every worker's log (killed ones included)."""
    done: collections.Counter[str] = collections.Counter()
    for path in logs:
        for line in path.read_text(errors="replace").splitlines():
            if "job.finished" in line and "succeeded" in line:
                match = re.search(r"job_id[=\"': ]+([0-9A-Za-z-]{8,})", line)
                assert match, line
                done[match.group(1)] += 1
    return done


def _our_ffmpegs(data_dir: Path) -> list[int]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.info["name"] == "ffmpeg" and str(data_dir) in " ".join(proc.info["cmdline"] or []):
            found.append(proc.pid)
    return found


@dataclass
class Deployment:
    env: dict[str, str]
    data_dir: Path
    apis: list[Node]
    workers: list[Node]
    token: str = ""
    project: str = ""

    @property
    def nodes(self) -> list[Node]:
        return [*self.apis, *self.workers]

    @property
    def ports(self) -> list[int]:
        return [a.port for a in self.apis]

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        _wait(lambda: all(_healthy(p) for p in self.ports), 90, "both API nodes healthy")
        email, password = "chaos@streamcore.test", "chaos password 18"
        asyncio.run(ensure_user(settings_of(self.env), email, password, False))
        base = f"http://127.0.0.1:{self.ports[0]}"
        login = {"email": email, "password": password}
        self.token = httpx.post(f"{base}/auth/login", json=login).json()["access_token"]
        headers = {"Authorization": f"Bearer {self.token}"}
        self.project = httpx.post(
            f"{base}/projects", json={"name": "chaos"}, headers=headers
        ).json()["id"]

    def revive(self) -> None:
        """A kill may have been the last thing the driver did."""
        for node in self.nodes:
            if node.process is None or node.process.poll() is not None:
                node.start()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

        def left() -> list[int]:
            return [pid for node in self.nodes for pid in node.leftovers()]

        _wait(lambda: not left(), 20, lambda: f"processes left: {left()}")


def _deployment(tmp_path: Path, services: Services, secret: str, bucket: str) -> Deployment:
    data_dir = tmp_path / "data"
    data_dir.mkdir(parents=True)
    db_url = services.pg.admin_dsn.replace("postgresql://", "postgresql+asyncpg://")
    bus = kafka_env(
        services.broker, services.redis.url, STREAMCORE_BUS__REPUBLISH_AFTER_SECONDS="5"
    )
    env = server_env(data_dir, db_url, secret, **bus, **services.s3.env(bucket))
    env["STREAMCORE_WORKER__CONCURRENCY"] = "1"
    # The default retry backoff (2 s base), not the tests' 0.2 s: with that, a job's three
    # attempts (one lost to a killed worker, two to the SeaweedFS restart) ran out within
    # 9 s and 1 video of 100 failed. A longer outage still exhausts them (see the report).
    env.pop("STREAMCORE_WORKER__BACKOFF_BASE_SECONDS")
    apis = [Node("api", env, data_dir / f"api-{i}.log", free_port()) for i in range(2)]
    workers = [Node("worker", env, data_dir / f"worker-{i}.log") for i in range(2)]
    return Deployment(env, data_dir, apis, workers)


def _wait_final(dep: Deployment, accepted: list[str]) -> dict[str, str]:
    statuses: dict[str, str] = {}

    def all_final() -> bool:
        statuses.update(_statuses(dep.ports, dep.token, accepted))
        return all(statuses.get(v) in ("ready", "failed") for v in accepted)

    _wait(all_final, 120 + 6 * UPLOADS, lambda: f"every accepted upload final: {statuses}")
    return statuses


def test_chaos(tmp_path: Path, services: Services, media: Path, secret: str) -> None:
    rng = random.Random(SEED)
    dep = _deployment(tmp_path, services, secret, bucket := "chaos")
    driver = Driver(dep.nodes, services, rng)
    started = time.monotonic()
    try:
        dep.start()
        driver.start()
        clip = media / "short360.mp4"
        accepted = [_upload(dep.ports, dep.token, dep.project, clip, rng) for _ in range(UPLOADS)]
        # The driver goes on until every service was restarted once.
        _wait(lambda: not driver.pending or not driver.is_alive(), 120, "every service restarted")
        driver.stopped.set()
        driver.join()
        assert not driver.errors, driver.errors
        dep.revive()
        statuses = _wait_final(dep, accepted)
        ready = [v for v in accepted if statuses[v] == "ready"]
        duplicates = {
            j: n for j, n in _completions([w.log_path for w in dep.workers]).items() if n > 1
        }
        ready_events = asyncio.run(_ready_events(services.pg.admin_dsn))
        extra = asyncio.run(_extra_outputs(services.s3, bucket, ready))
        _wait(lambda: not _our_ffmpegs(dep.data_dir), 15, "no FFmpeg left")
        work = dep.data_dir / "work"
        _wait(lambda: not work.exists() or not any(work.iterdir()), 30, "work dirs swept")
    finally:
        driver.stopped.set()
        dep.stop()
    kills = {kind: sum(n.kills for n in dep.nodes if n.kind == kind) for kind in ("api", "worker")}
    print(
        f"\nchaos: accepted={len(accepted)} ready={len(ready)} kills={kills} "
        f"service restarts={dict(services.restarts)} duplicate completions={len(duplicates)} "
        f"in {time.monotonic() - started:.0f} s"
    )
    assert ready == accepted, statuses
    assert duplicates == {}, duplicates
    assert all(ready_events[v] == 1 for v in accepted), ready_events
    assert all(not objects for objects in extra.values()), extra
    assert sorted(services.restarts) == ["broker", "postgres", "redis", "s3"]
    assert kills["api"] + kills["worker"] >= 1
