"""A real Prometheus scrapes an API node and a worker through one pipeline run, and
every panel of the provisioned Grafana dashboard has data afterwards."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.cluster import Cluster, cluster, kafka_env
from tests.fixtures.kafka import Broker
from tests.fixtures.services import free_port, postgres_database
from tests.helpers import create_project, upload, wait_final
from tests.webhooks.receiver import receiver

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "streamcore.json"

pytestmark = pytest.mark.slow


def test_deploy_prometheus_config_passes_promtool() -> None:
    out = subprocess.run(
        ["promtool", "check", "config", str(DEPLOY / "prometheus.yml")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    jobs = {"streamcore-api", "streamcore-worker"}
    assert all(f"job_name: {job}" in (DEPLOY / "prometheus.yml").read_text() for job in jobs)


@pytest.fixture
def deployment(tmp_path: Path, broker: Broker, redis_url: str, secret: str) -> Iterator[Cluster]:
    env = kafka_env(
        broker,
        redis_url,
        STREAMCORE_WORKER__METRICS_PORT=str(free_port()),
        STREAMCORE_WEBHOOKS__ALLOW_NETWORKS="127.0.0.2/32",
    )
    with postgres_database() as db_url, cluster(tmp_path, db_url, secret, env, workers=1) as c:
        yield c


@pytest.fixture
def prometheus(tmp_path: Path, deployment: Cluster) -> Iterator[str]:
    """Prometheus with deploy/prometheus.yml's jobs pointed at this deployment."""
    api = deployment.api.base_url.removeprefix("http://")
    worker = f"127.0.0.1:{deployment.env['STREAMCORE_WORKER__METRICS_PORT']}"
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {"job_name": "streamcore-api", "static_configs": [{"targets": [api]}]},
            {"job_name": "streamcore-worker", "static_configs": [{"targets": [worker]}]},
        ],
    }
    config_path = tmp_path / "prometheus.yml"
    config_path.write_text(json.dumps(config))  # JSON is YAML
    port = free_port()
    binary = shutil.which("prometheus") or "/usr/bin/prometheus"
    with open(tmp_path / "prometheus.log", "wb") as log:
        proc = subprocess.Popen(
            [binary, f"--config.file={config_path}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: _ready(url), 30, "Prometheus to be ready")
        yield url
    finally:
        proc.kill()
        proc.wait()


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _query(url: str, expr: str) -> list[dict[str, Any]]:
    resp = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10)
    assert resp.status_code == 200, resp.text
    result: list[dict[str, Any]] = resp.json()["data"]["result"]
    return result


def _has_data(url: str, expr: str) -> bool:
    return any(not math.isnan(float(s["value"][1])) for s in _query(url, expr))


def _play(client: httpx.Client, playback_url: str) -> None:
    """Master, the first variant and its first segment, as a player fetches them."""
    master = client.get(playback_url)
    assert master.status_code == 200
    variant = next(u for u in master.text.splitlines() if u and not u.startswith("#"))
    playlist = client.get(httpx.URL(playback_url).join(variant))
    assert playlist.status_code == 200
    segment = next(u for u in playlist.text.splitlines() if u and not u.startswith("#"))
    assert client.get(httpx.URL(str(playlist.url)).join(segment)).status_code == 200
    # The player's beacons of that view: a start, its first frame, one stall.
    token = httpx.URL(playback_url).path.rsplit("/", 1)[1].removesuffix(".m3u8")
    now = int(time.time() * 1000)
    view = {"view_id": "prometheus-view-1", "viewer_id": "prometheus-viewer", "player_time": 0}
    events = [
        {**view, "type": kind, "at": now + offset, **extra}
        for kind, offset, extra in (
            ("view_start", 0, {}),
            ("first_frame", 900, {}),
            ("rebuffer_start", 2000, {}),
            ("rebuffer_end", 2600, {"duration_ms": 600}),
            ("view_end", 4000, {}),
        )
    ]
    beacons = client.post("/analytics/events", json={"token": token, "events": events})
    assert beacons.status_code == 202, beacons.text


def test_every_grafana_panel_has_data_after_one_pipeline_run(
    deployment: Cluster, prometheus: str, media: Path
) -> None:
    targets = _wait(
        lambda: [t for t in _query(prometheus, "up") if t["value"][1] == "1"] or None,
        30, "both targets up",
    )  # fmt: skip
    _wait(lambda: len(_query(prometheus, "up == 1")) == 2, 30, f"two targets up: {targets}")
    with (
        httpx.Client(
            base_url=deployment.api.base_url, timeout=60, headers=deployment.api.admin_headers
        ) as client,
        receiver("127.0.0.2") as hooks,
    ):
        project = create_project(client, "metrics")
        # A webhook endpoint, so the webhook panels have deliveries to show.
        endpoint = client.post(f"/projects/{project}/webhooks", json={"url": hooks.url("/m")})
        assert endpoint.status_code == 201, endpoint.text
        hooks.routes["/m"].secret = endpoint.json()["secret"]
        video = upload(client, project, media / "short360.mp4")
        final = wait_final(client, video["id"], timeout=180)
        assert final["status"] == "ready", final
        _play(client, str(httpx.URL(deployment.api.base_url).join(final["playback_url"])))
    panels = json.loads(DASHBOARD.read_text())["panels"]
    exprs = {f"{p['title']} [{t['refId']}]": t["expr"] for p in panels for t in p["targets"]}

    def missing() -> list[str]:
        return [name for name, expr in exprs.items() if not _has_data(prometheus, expr)]

    # A few scrapes after the run, so every rate() has two samples around it.
    deadline = time.monotonic() + 30
    while (empty := missing()) and time.monotonic() < deadline:
        time.sleep(1)
    assert empty == [], f"panels without data: {empty}"
    worker_series = _query(prometheus, 'streamcore_jobs_finished_total{job="streamcore-worker"}')
    assert any(float(s["value"][1]) > 0 for s in worker_series), worker_series
