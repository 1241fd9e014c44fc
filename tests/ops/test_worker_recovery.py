"""A worker SIGKILLed mid-transcode, with the default lease, heartbeat and consumer
timers: its FFmpeg dies with it, another worker takes the job over within 20 s, and a
worker starting afterwards removes the dead attempt's work directory."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.bus.test_distributed import jobs_of, transcoding_worker, wait_for, wait_transcoding
from tests.fixtures.cluster import Cluster, cluster, kafka_env, pid_alive
from tests.fixtures.kafka import Broker
from tests.fixtures.media import make_clip
from tests.fixtures.services import postgres_database
from tests.helpers import create_project, upload, wait_final

pytestmark = pytest.mark.slow

# The timers this test is about stay at their defaults.
DEFAULT_TIMERS = (
    "STREAMCORE_WORKER__LEASE_SECONDS",
    "STREAMCORE_WORKER__HEARTBEAT_SECONDS",
    "STREAMCORE_BUS__SESSION_TIMEOUT_MS",
    "STREAMCORE_BUS__HEARTBEAT_INTERVAL_MS",
    "STREAMCORE_BUS__REBALANCE_TIMEOUT_MS",
)
PICKUP_LIMIT_SECONDS = 20


@pytest.fixture
def deployment(tmp_path: Path, broker: Broker, redis_url: str, secret: str) -> Iterator[Cluster]:
    env = kafka_env(
        broker, redis_url, STREAMCORE_BUS__MIN_CONSUMERS="1", STREAMCORE_BUS__MAX_CONSUMERS="1"
    )
    for name in DEFAULT_TIMERS:
        env.pop(name)
    with postgres_database() as db_url, cluster(tmp_path, db_url, secret, env) as running:
        yield running


def _running_attempt(client: httpx.Client, video_id: str, attempt: int) -> dict[str, Any] | None:
    for job in jobs_of(client, video_id):
        taken = job["attempts"] >= attempt and job["status"] in ("running", "succeeded")
        if job["kind"] == "transcode" and taken:
            return job
    return None


def test_killed_worker_loses_its_ffmpeg_and_its_job_within_twenty_seconds(
    deployment: Cluster, tmp_path: Path
) -> None:
    make_clip(tmp_path / "long.mp4", seconds=20, size="854x480")
    with httpx.Client(
        base_url=deployment.api.base_url, timeout=60, headers=deployment.api.admin_headers
    ) as client:
        deployment.wait_workers_registered(client, 2)
        video = upload(client, create_project(client, "recovery"), tmp_path / "long.mp4")
        wait_transcoding(client, video["id"], min_progress=1)
        victim, pids = transcoding_worker(deployment)
        work = deployment.data_dir / "work"
        dead_dirs = sorted(p.name for p in work.iterdir())
        assert dead_dirs, "the running attempt has a work directory"

        os.kill(victim.pid, signal.SIGKILL)  # the worker only: its FFmpeg must follow
        victim.process.wait()
        killed_at = time.monotonic()
        wait_for(lambda: not any(pid_alive(p) for p in pids), 3, "FFmpeg to die with its worker")

        job = wait_for(
            lambda: _running_attempt(client, video["id"], 2), 40, "the job taken over", 0.2
        )
        picked_up = time.monotonic() - killed_at
        print(f"job picked up {picked_up:.1f} s after the kill")
        assert picked_up < PICKUP_LIMIT_SECONDS, job

        deployment.start_worker()
        wait_for(
            lambda: not any((work / d).exists() for d in dead_dirs),
            30,
            "a starting worker to sweep the dead attempt's work directory",
        )
        final = wait_final(client, video["id"], timeout=240)
        assert final["status"] == "ready", final
        # Finished attempts clean up after themselves: nothing is left.
        wait_for(lambda: not list(work.iterdir()), 10, "no work directory left")
