"""Beacons to a real `streamcore serve` (Granian), where the bare-ASGI fast path answers
them: a view sent as sendBeacon sends it shows up in `GET /analytics` through the
embedded worker's rollup loop; refusals keep their status, reason and CORS header."""

from __future__ import annotations

import json
import time

import httpx

from streamcore.security.stream_tokens import TokenCodec
from streamcore.videos import layout
from tests.analytics.conftest import view_events
from tests.fixtures.services import LiveServer


def test_beacons_on_the_live_server(server: LiveServer, client: httpx.Client) -> None:
    project = client.post("/projects", json={"name": "beacons"}).json()["id"]
    body = {"project_id": project, "filename": "v.mp4", "size": 1000}
    video = client.post("/uploads/presign", json=body).json()["asset_id"]
    codec = TokenCodec.from_secret(server.env["STREAMCORE_SECRET_KEY"])
    token = codec.issue(video, layout.MASTER_PATH, 600) + ".m3u8"
    headers = {"Content-Type": "text/plain;charset=UTF-8", "Origin": "https://site.example"}
    with httpx.Client(base_url=server.base_url, timeout=30) as anon:
        ok = anon.post(
            f"/analytics/events?token={token}",
            content=json.dumps({"events": view_events(seconds=10)}),
            headers=headers,
        )
        assert ok.status_code == 202, ok.text
        assert ok.json() == {"accepted": 4}
        assert ok.headers["access-control-allow-origin"] == "*"
        bad = anon.post(
            f"/analytics/events?token={token}",
            content=json.dumps({"events": [{**view_events()[0], "type": "nope"}]}),
            headers=headers,
        )
        assert bad.status_code == 400
        assert bad.json()["error"] == "BadRequest"
        assert "unknown type" in bad.json()["detail"]
        big = anon.post(f"/analytics/events?token={token}", content=b"x" * 20_000)
        assert big.status_code == 413
        assert anon.post("/analytics/events", content=b"{}").status_code == 400
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        totals = client.get("/analytics", params={"video_id": video}).json()["totals"]
        if totals["views"]:
            break
        time.sleep(0.5)
    assert totals["views"] == 1
    assert abs(totals["watch_time_seconds"] - 10) <= 1.5
    metrics = client.get("/metrics").text
    assert 'streamcore_analytics_refused_total{reason="unknown_type"} 1.0' in metrics
    assert 'route="/analytics/events",status="202"' in metrics
