"""Chunked transcoding in Kafka mode: the chunk, audio and stitch jobs go through their
own topics (outbox relay, consumer groups) to two `streamcore worker` processes, and
the video is stitched and plays as in embedded mode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.bus.test_distributed import jobs_of
from tests.fixtures.cluster import Cluster, cluster, kafka_env
from tests.fixtures.kafka import Broker
from tests.fixtures.media import make_clip
from tests.fixtures.services import postgres_database
from tests.helpers import create_project, decode_all, upload, wait_final

pytestmark = pytest.mark.slow


@pytest.fixture
def deployment(tmp_path: Path, broker: Broker, redis_url: str, secret: str) -> Iterator[Cluster]:
    env = kafka_env(
        broker, redis_url,
        STREAMCORE_BUS__MIN_CONSUMERS="1", STREAMCORE_BUS__MAX_CONSUMERS="1",
        STREAMCORE_MEDIA__CHUNK_THRESHOLD_SECONDS="10",
        STREAMCORE_MEDIA__CHUNK_SECONDS="8",
    )  # fmt: skip
    with postgres_database() as db_url, cluster(tmp_path, db_url, secret, env) as running:
        yield running


def test_a_chunked_run_goes_through_its_topics(deployment: Cluster, tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "c.mp4", seconds=24, size="640x360")
    with httpx.Client(
        base_url=deployment.api.base_url, timeout=60, headers=deployment.api.admin_headers
    ) as client:
        deployment.wait_workers_registered(client, 2)
        video = wait_final(client, upload(client, create_project(client), clip)["id"], 180)
        assert video["status"] == "ready", video
        jobs = jobs_of(client, video["id"])
        kinds = sorted(j["kind"] for j in jobs)
        assert kinds == ["ingest", "stitch", "transcode_audio"] + ["transcode_chunk"] * 4, kinds
        assert all(j["status"] == "succeeded" and j["published_at"] for j in jobs), jobs
        lag = {t["topic"].split(".", 1)[1]: t for t in client.get("/admin/stats").json()["lag"]}
        assert {"media.transcode_chunk", "media.transcode_audio", "media.stitch"} <= set(lag)
        master = client.get(video["playback_url"]).text
        assert 'TYPE=AUDIO,GROUP-ID="audio"' in master
        decode_all(video["playback_url"])
