"""The admin API in embedded mode, through a real `streamcore serve` on SQLite and
PostgreSQL: statistics, stopping a video, retrying a job, and their errors."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.fixtures.services import LiveServer
from tests.helpers import create_project, upload, wait_final


@pytest.fixture
def client(server: LiveServer) -> httpx.Client:
    with httpx.Client(base_url=server.base_url, timeout=60, headers=server.admin_headers) as c:
        yield c  # type: ignore[misc]


def test_stats_show_the_embedded_worker_jobs_and_failures(
    client: httpx.Client, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_text("not media\n")
    project = create_project(client, "stats")
    video = wait_final(client, upload(client, project, junk)["id"])
    assert video["status"] == "failed"

    stats = client.get("/admin/stats").json()
    assert stats["bus"] == "db"
    assert stats["group_id"] is None
    assert len(stats["workers"]) == 1
    assert stats["workers"][0]["bus"] == "db"
    assert stats["active_consumers"] == 2  # STREAMCORE_WORKER__CONCURRENCY in the tests
    assert [t["topic"] for t in stats["lag"]] == [
        "media.ingest",
        "media.transcode",
        "media.transcribe",
        "media.purge",
        "media.transcode_chunk",
        "media.transcode_audio",
        "media.stitch",
    ]
    assert stats["total_lag"] == 0
    assert stats["jobs"]["failed"] >= 1
    assert stats["failures"]["ProbeFailed"] >= 1
    assert stats["throughput"]["finished"] >= 1
    assert stats["throughput"]["window_seconds"] == 60


def test_retry_puts_a_failed_job_back_and_stop_refuses_a_finished_video(
    client: httpx.Client, tmp_path: Path, media: Path
) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_text("not media\n")
    project = create_project(client, "retry")
    video_id = wait_final(client, upload(client, project, junk)["id"])["id"]
    [job] = client.get("/admin/jobs", params={"video_id": video_id}).json()
    assert (job["status"], job["error_class"]) == ("failed", "ProbeFailed")

    # A finished video has nothing to stop.
    resp = client.post(f"/admin/video/{video_id}/stop")
    assert resp.status_code == 409
    assert resp.json()["error"] == "Conflict"

    retried = client.post(f"/admin/jobs/{job['id']}/retry")
    assert retried.status_code == 200, retried.text
    assert (retried.json()["status"], retried.json()["attempts"]) == ("queued", 0)
    video = wait_final(client, video_id)
    assert video["status"] == "failed"
    [again] = client.get("/admin/jobs", params={"video_id": video_id}).json()
    assert (again["id"], again["attempts"]) == (job["id"], 1)

    assert client.post(f"/admin/jobs/{'0' * 32}/retry").status_code == 404
    assert client.post(f"/admin/video/{'0' * 32}/stop").status_code == 404


def test_stop_cancels_a_video_in_process(client: httpx.Client, media: Path) -> None:
    project = create_project(client, "stop-embedded")
    video_id = upload(client, project, media / "short360.mp4")["id"]
    resp = client.post(f"/admin/video/{video_id}/stop")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert len(body["cancelled_jobs"]) + len(body["stopping_jobs"]) == 1
    video = wait_final(client, video_id, timeout=30)
    assert video["status"] == "cancelled"
    assert video["playback_url"] is None
    jobs = client.get("/admin/jobs", params={"video_id": video_id}).json()
    assert jobs
    assert jobs[-1]["status"] == "cancelled"
    # A cancelled job can be replayed: the video is processed after all.
    assert client.post(f"/admin/jobs/{jobs[-1]['id']}/retry").status_code == 200
    assert wait_final(client, video_id, timeout=120)["status"] == "ready"
