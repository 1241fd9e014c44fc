"""Kafka mode on PostgreSQL and the Tansu broker: the API produces beacon batches and
segment traffic to the analytics topic, the workers' consumer writes them and the rollup
shows them."""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path

from sqlalchemy import func, select

from streamcore.auth import service as auth
from streamcore.infra import Infra
from streamcore.models import AssetStatus, StreamLog
from streamcore.organizations import service as organizations
from streamcore.projects import service as projects
from streamcore.stream import service as stream
from streamcore.videos import layout
from streamcore.worker import analytics_services
from tests.analytics.conftest import view_events
from tests.auth.conftest import running_api
from tests.bus.conftest import kafka_settings
from tests.bus.conftest import own_pg_url as own_pg_url  # a fixture
from tests.fixtures.kafka import Broker
from tests.seed import seed_asset


async def _stream_logs(infra: Infra, asset_id: str) -> int:
    async with infra.transaction() as s:
        stmt = select(func.count()).where(StreamLog.asset_id == asset_id)
        return int((await s.execute(stmt)).scalar_one())


async def test_beacons_and_traffic_go_through_the_analytics_topic(
    tmp_path: Path, own_pg_url: str, broker: Broker
) -> None:
    settings = kafka_settings(
        tmp_path, own_pg_url, broker, analytics={"flush_seconds": 0.1, "rollup_seconds": 0.2}
    )
    async with running_api(settings) as api:
        infra = api.infra
        async with infra.transaction() as s:
            user = await auth.create_user(s, infra, "kafka@analytics.example", "kafka password")
            org = await organizations.create_organization(s, "Kafka org", user.id)
            project = await projects.create_project(s, "kafka", org.id)
            asset = await seed_asset(s, project_id=project.id, status=AssetStatus.ready)
        headers = {"Authorization": f"Bearer {infra.access_tokens.issue(user.id)}"}
        token = stream.playback_name(infra, asset.id, None)
        segment = "hls/360p/seg_00001.ts"
        await infra.storage.put_bytes(layout.key(asset.id, segment), b"\x47" * 1880)
        master = b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\n360p/index.m3u8\n"
        await infra.storage.put_bytes(layout.key(asset.id, layout.MASTER_PATH), master)
        stop = asyncio.Event()
        workers = [asyncio.create_task(job) for job in analytics_services(infra, stop)]
        try:
            async with api.client(headers=headers) as c:
                resp = await c.post(
                    f"/analytics/events?token={token}",
                    json={"events": view_events(seconds=10, viewer=secrets.token_hex(8))},
                )
                assert resp.status_code == 202, resp.text
                assert (await c.get(f"/stream/{token}")).status_code == 200
                seg = await c.get(f"/stream/{stream.signed_name(infra, asset.id, segment)}")
                assert seg.status_code == 200
                deadline = time.monotonic() + 60
                totals: dict[str, float] = {}
                while time.monotonic() < deadline:
                    got = await c.get("/analytics", params={"video_id": asset.id})
                    totals = got.json()["totals"]
                    logged = await _stream_logs(infra, asset.id)
                    if totals["views"] and totals["bytes_served"] and logged:
                        break
                    await asyncio.sleep(0.3)
            assert totals["views"] == 1
            assert abs(totals["watch_time_seconds"] - 10) <= 1.5
            assert totals["bytes_served"] == 1880
            assert await _stream_logs(infra, asset.id) == 1  # the master's view row
            assert infra.metrics.analytics_events.labels("kafka")._value.get() == 4
        finally:
            stop.set()
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
