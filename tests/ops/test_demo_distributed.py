"""`streamcore demo --distributed` runs the roadmap's flow on real services (PostgreSQL,
SeaweedFS S3, the Tansu broker, Redis): project, session, presigned upload, transcode,
transcription, and every object checked in the bucket."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiobotocore.session import get_session

from tests.fixtures.cluster import kafka_env
from tests.fixtures.kafka import Broker
from tests.fixtures.object_stores import S3Server
from tests.fixtures.services import free_port, postgres_database, server_env


def _demo(
    env: dict[str, str], *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streamcore", "demo", "--distributed", *args],
        env={**env, "COLUMNS": "200"}, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


async def _list(s3: S3Server, bucket: str) -> list[str]:
    async with get_session().create_client(
        "s3", endpoint_url=s3.endpoint_url, region_name="us-east-1",
        aws_access_key_id=s3.access_key, aws_secret_access_key=s3.secret_key,
    ) as client:  # fmt: skip
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return [o["Key"] async for page in pages for o in page.get("Contents", [])]


def test_the_distributed_demo_refuses_embedded_settings(tmp_path: Path, secret: str) -> None:
    env = server_env(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", secret)
    out = _demo(env, timeout=60)
    assert out.returncode == 2, out.stdout + out.stderr
    for setting in ("DATABASE__URL", "STORAGE__BACKEND", "BUS__BACKEND", "REDIS__URL"):
        assert f"STREAMCORE_{setting}" in out.stdout + out.stderr, out.stdout + out.stderr


@pytest.mark.skipif(
    not os.environ.get("STREAMCORE_TEST_DEMO"),
    reason="opt-in (STREAMCORE_TEST_DEMO=1): an API node, a worker and a Whisper run take "
    "about a minute, more than make test's budget",
)
def test_the_distributed_demo_finds_every_object_in_the_bucket(
    tmp_path: Path, media: Path, secret: str, broker: Broker, redis_url: str, s3_server: S3Server
) -> None:
    bucket = f"demo-{free_port()}"
    with postgres_database() as db_url:
        env = server_env(tmp_path, db_url, secret, **kafka_env(broker, redis_url),
                         **s3_server.env(bucket))  # fmt: skip
        started = time.monotonic()
        out = _demo(env, "--file", str(media / "short360.mp4"), "--port", str(free_port()))
        elapsed = time.monotonic() - started
    logs = "\n".join(p.read_text()[-2000:] for p in (tmp_path / "demo-distributed").glob("*.log"))
    assert out.returncode == 0, out.stdout + out.stderr + logs
    assert "Every object of the video and its transcript is in the bucket" in out.stderr
    # The bucket really holds them: the demo's own count against a listing of our own.
    keys = asyncio.run(_list(s3_server, bucket))
    assert any(k.endswith("/source") for k in keys), keys
    assert any(k.endswith("/hls/master.m3u8") for k in keys), keys
    assert sum(k.endswith(".ts") or k.endswith(".m4s") for k in keys) >= 1, keys
    assert any(k.endswith("/transcript/transcript.vtt") for k in keys), keys
    print(f"distributed demo: {elapsed:.1f} s\n{out.stderr}")
