"""Distributed mode as real processes: an API node and two `streamcore worker`s on
Kafka (Tansu), PostgreSQL and Redis. Workers are SIGKILLed, the broker is stopped,
a video is stopped mid-transcode, 200 uploads arrive at once: nothing is lost, nothing
runs to completion twice."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.cluster import Cluster, WorkerProcess, cluster, kafka_env, pid_alive
from tests.fixtures.kafka import Broker, start_broker
from tests.fixtures.media import make_clip
from tests.fixtures.services import postgres_database
from tests.helpers import create_project, upload, wait_final

pytestmark = pytest.mark.slow

OUTPUT_FOLDERS = ("hls", "derivatives", "thumbnails")


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """This module restarts its broker: it gets one of its own."""
    broker = start_broker(tmp_path_factory.mktemp("tansu-e2e"))
    try:
        yield broker
    finally:
        broker.kill()


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, own_broker: Broker, redis_url: str, secret: str
) -> Iterator[Cluster]:
    data_dir = tmp_path_factory.mktemp("distributed")
    # A fixed pool (2 consumers per worker, 4 partitions): these tests are about losing
    # nothing, and Tansu's group coordinator can stall in a rebalance when members
    # leave and join in quick succession, which autoscaling does. Scaling has its own
    # test (test_autoscale.py).
    env = kafka_env(
        own_broker, redis_url, STREAMCORE_BUS__MIN_CONSUMERS="2", STREAMCORE_BUS__MAX_CONSUMERS="2"
    )
    with postgres_database() as db_url, cluster(data_dir, db_url, secret, env) as running:
        yield running


@pytest.fixture(scope="module")
def client(deployment: Cluster) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=deployment.api.base_url, timeout=60, headers=deployment.api.admin_headers
    ) as c:
        deployment.wait_workers_registered(c, 2)
        yield c


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("bus-media")
    make_clip(d / "long.mp4", seconds=30, size="640x360")
    make_clip(d / "tiny.mp4", seconds=1, size="160x90")
    make_clip(d / "short.mp4", seconds=3, size="320x180")
    return d


def jobs_of(client: httpx.Client, video_id: str) -> list[dict[str, Any]]:
    resp = client.get("/admin/jobs", params={"video_id": video_id})
    assert resp.status_code == 200, resp.text
    jobs: list[dict[str, Any]] = resp.json()
    return jobs


def outputs(deployment: Cluster, video_id: str) -> list[Path]:
    root = deployment.data_dir / "objects" / "assets" / video_id
    return sorted(p for f in OUTPUT_FOLDERS for p in (root / f).rglob("*") if p.is_file())


def wait_for(check: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def transcoding_worker(deployment: Cluster) -> tuple[WorkerProcess, list[int]]:
    def find() -> tuple[WorkerProcess, list[int]] | None:
        for worker in deployment.alive():
            pids = worker.ffmpeg_pids()
            if pids:
                return worker, pids
        return None

    found: tuple[WorkerProcess, list[int]] = wait_for(find, 60, "a worker running FFmpeg")
    return found


def wait_transcoding(client: httpx.Client, video_id: str, min_progress: float = 5) -> None:
    def check() -> bool:
        video = client.get(f"/videos/{video_id}").json()
        assert video["status"] not in ("ready", "failed", "cancelled"), video
        return bool(video["status"] == "transcoding" and video["progress"] >= min_progress)

    wait_for(check, 90, "the transcode to be under way", interval=0.05)


def wait_lag_zero(client: httpx.Client, timeout: float = 60) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        stats: dict[str, Any] = client.get("/admin/stats").json()
        return stats if stats["lag"] and stats["total_lag"] == 0 else None

    stats: dict[str, Any] = wait_for(check, timeout, "the consumer lag to return to 0", 0.5)
    return stats


def assert_one_set_of_outputs(deployment: Cluster, video_id: str) -> None:
    """Every variant holds exactly the segments its playlist names: one run's output."""
    hls = deployment.data_dir / "objects" / "assets" / video_id / "hls"
    variants = [d for d in hls.iterdir() if d.is_dir()]
    assert variants
    for variant in variants:
        named = {
            ln.strip()
            for ln in (variant / "index.m3u8").read_text().splitlines()
            if ln.strip() and not ln.startswith("#")
        }
        on_disk = {p.name for p in variant.iterdir() if p.suffix == ".ts"}
        assert named == on_disk, variant.name


def test_stop_during_transcode_kills_ffmpeg_and_leaves_nothing(
    deployment: Cluster, client: httpx.Client, clips: Path
) -> None:
    project = create_project(client, "stop")
    video_id = upload(client, project, clips / "long.mp4")["id"]
    wait_transcoding(client, video_id)
    worker, _ = transcoding_worker(deployment)
    pids = worker.ffmpeg_pids()  # the ladder runs from start to end of the transcode
    assert pids

    stopped_at = time.monotonic()
    resp = client.post(f"/admin/video/{video_id}/stop")
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["stopping_jobs"]) == 1

    def ffmpeg_gone() -> bool:
        return not any(pid_alive(p) for p in pids) and not worker.ffmpeg_pids()

    wait_for(ffmpeg_gone, 2, "FFmpeg to be gone", 0.02)
    gone_after = time.monotonic() - stopped_at
    print(f"\nFFmpeg pids {pids} of {worker.name} gone {gone_after:.2f}s after the stop request")

    video = wait_final(client, video_id, timeout=30)
    assert video["status"] == "cancelled"
    assert outputs(deployment, video_id) == []
    wait_lag_zero(client)
    # Redelivery or not, it never runs again.
    time.sleep(1)
    [ingest, transcode] = jobs_of(client, video_id)
    assert (ingest["status"], transcode["status"], transcode["attempts"]) == (
        "succeeded",
        "cancelled",
        1,
    )
    assert client.get(f"/videos/{video_id}").json()["status"] == "cancelled"
    assert outputs(deployment, video_id) == []


def test_two_hundred_uploads_drain_without_loss_or_duplicates(
    deployment: Cluster, client: httpx.Client, clips: Path, tmp_path: Path
) -> None:
    """200 at once, affordable on 2 cores: 180 text files that fail at ingest (the bus
    work is the same per message) and 20 real 1 s 160x90 clips that go to ready."""
    junk = tmp_path / "junk.mp4"
    junk.write_text("not a video\n" * 10)
    files = [clips / "tiny.mp4" if i % 10 == 0 else junk for i in range(200)]
    project = create_project(client, "two-hundred")
    started = time.monotonic()

    def send(path: Path) -> str:
        with httpx.Client(
            base_url=deployment.api.base_url, timeout=60, headers=deployment.api.admin_headers
        ) as c:
            return str(upload(c, project, path)["id"])

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(send, files))
    assert len(set(ids)) == 200
    samples: list[tuple[float, int, int]] = []

    def drained() -> bool:
        stats = client.get("/admin/stats").json()
        samples.append(
            (round(time.monotonic() - started, 1), stats["active_consumers"], stats["total_lag"])
        )
        jobs = stats["jobs"]
        return bool(jobs["queued"] == 0 and jobs["running"] == 0)

    wait_for(drained, 240, "every job to finish", interval=1)
    stats = wait_lag_zero(client)
    elapsed = time.monotonic() - started
    print(f"\n200 uploads drained in {elapsed:.1f}s; (t, consumers, lag): {samples}")

    statuses: Counter[str] = Counter()
    for video_id, path in zip(ids, files, strict=True):
        video = client.get(f"/videos/{video_id}").json()
        statuses[video["status"]] += 1
        jobs = jobs_of(client, video_id)
        # One job per stage, each claimed exactly once: no duplicate, none lost.
        assert all(j["attempts"] == 1 for j in jobs), jobs
        if path == junk:
            assert (video["status"], video["error"]["class"]) == ("failed", "ProbeFailed")
            assert [(j["kind"], j["status"]) for j in jobs] == [("ingest", "failed")]
        else:
            assert video["status"] == "ready", video
            assert [(j["kind"], j["status"]) for j in jobs] == [
                ("ingest", "succeeded"),
                ("transcode", "succeeded"),
            ]
    assert statuses == {"failed": 180, "ready": 20}
    assert stats["failures"].get("ProbeFailed", 0) >= 180
    assert stats["throughput"]["finished"] >= 0


def test_sigkilled_worker_mid_transcode_is_finished_by_the_other(
    deployment: Cluster, client: httpx.Client, clips: Path
) -> None:
    project = create_project(client, "sigkill")
    video_id = upload(client, project, clips / "long.mp4")["id"]
    wait_transcoding(client, video_id)
    wait_for(lambda: client.get(f"/videos/{video_id}").json()["playable"], 60, "playable")
    victim, _ = transcoding_worker(deployment)
    victim.sigkill()
    print(f"\nSIGKILLed {victim.name} mid-transcode")

    # The video was playable: it stays so while the other worker redoes the transcode.
    seen = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        resp = client.get(f"/videos/{video_id}")
        assert resp.status_code == 200, resp.text
        video = resp.json()
        seen.append((video["status"], video["playable"]))
        if video["status"] in ("ready", "failed", "cancelled"):
            break
        time.sleep(0.2)
    assert video["status"] == "ready", video
    assert all(playable for _, playable in seen), seen
    [ingest, transcode] = jobs_of(client, video_id)
    assert ingest["status"] == "succeeded"
    # Taken over once: the dead worker's attempt never completed.
    assert (transcode["status"], transcode["attempts"]) == ("succeeded", 2)
    # Logged after the outcome commits (and the work directory is removed): wait for it.
    pattern = rf"job\.finished.*job_id={transcode['id']}.*outcome=succeeded"
    wait_for(lambda: re.search(pattern, deployment.logs()), 15, "the job.finished line")
    assert len(re.findall(pattern, deployment.logs())) == 1
    assert_one_set_of_outputs(deployment, video_id)
    # Back to two workers for the tests after this one.
    deployment.start_worker()
    deployment.wait_workers_registered(client, 2)


def test_broker_down_for_ten_seconds_mid_flow_loses_nothing(
    deployment: Cluster, client: httpx.Client, clips: Path, own_broker: Broker
) -> None:
    project = create_project(client, "outage")
    ids = [upload(client, project, clips / "short.mp4")["id"] for _ in range(4)]
    wait_for(
        lambda: client.get(f"/videos/{ids[0]}").json()["status"] in ("transcoding", "ready"),
        60,
        "the flow to be under way",
    )
    own_broker.restart_after(10)  # memory storage: every topic and message is gone
    ids += [upload(client, project, clips / "short.mp4")["id"] for _ in range(2)]
    for video_id in ids:
        video = wait_final(client, video_id, timeout=180)
        assert video["status"] == "ready", video
        assert all(j["status"] == "succeeded" for j in jobs_of(client, video_id))
    wait_lag_zero(client, timeout=90)
