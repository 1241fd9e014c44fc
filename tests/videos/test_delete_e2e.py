"""DELETE /videos/{id} against real processes: an API node and `streamcore worker`s on
PostgreSQL with the jobs-table bus and local storage. A video deleted mid-transcode
leaves no FFmpeg and no object; a worker SIGKILLed mid-purge is replaced and the
purge resumes to zero objects."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.cluster import Cluster, WorkerProcess, cluster, pid_alive
from tests.fixtures.media import make_clip
from tests.fixtures.services import postgres_database
from tests.helpers import create_project, upload, wait_final

pytestmark = pytest.mark.slow

OBJECTS = 2000


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str, secret: str
) -> Iterator[Cluster]:
    data_dir = tmp_path_factory.mktemp("delete-e2e")
    env = {
        "STREAMCORE_WORKER__LEASE_SECONDS": "3",
        "STREAMCORE_WORKER__HEARTBEAT_SECONDS": "0.5",
        "STREAMCORE_WORKER__BACKOFF_BASE_SECONDS": "0.2",
        "STREAMCORE_BUS__POLL_INTERVAL_SECONDS": "0.2",
        # Cancel signals between processes go through Redis.
        "STREAMCORE_REDIS__URL": redis_url,
        "STREAMCORE_REDIS__CHANNEL_PREFIX": f"del{secret[:6]}",
        # Small pages: a 2,000-object purge takes long enough to be killed in the middle.
        "STREAMCORE_STORAGE__PURGE_PAGE_OBJECTS": "10",
    }
    with postgres_database() as db_url, cluster(data_dir, db_url, secret, env, 1) as running:
        yield running


@pytest.fixture(scope="module")
def client(deployment: Cluster) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=deployment.api.base_url, timeout=60, headers=deployment.api.admin_headers
    ) as c:
        yield c


def objects(deployment: Cluster, video_id: str) -> list[Path]:
    root = deployment.data_dir / "objects" / "assets" / video_id
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def wait_for(check: Any, timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def wait_deleted(client: httpx.Client, video_id: str, timeout: float = 60) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        video: dict[str, Any] = client.get(f"/videos/{video_id}").json()
        return video if video["status"] == "deleted" else None

    found: dict[str, Any] = wait_for(check, timeout, "the video to be deleted", 0.2)
    return found


def test_delete_mid_transcode_kills_ffmpeg_and_leaves_nothing(
    deployment: Cluster, client: httpx.Client, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "long.mp4", seconds=30, size="640x360")
    project = create_project(client, "delete")
    video_id = upload(client, project, clip)["id"]
    [worker] = deployment.alive()

    def playing() -> dict[str, Any] | None:
        video: dict[str, Any] = client.get(f"/videos/{video_id}").json()
        assert video["status"] not in ("ready", "failed", "cancelled"), video
        ok = video["playable"] and video["status"] == "transcoding" and worker.ffmpeg_pids()
        return video if ok else None

    video = wait_for(playing, 90, "a playable video still transcoding")
    pids = worker.ffmpeg_pids()
    master = httpx.get(video["playback_url"])
    assert master.status_code == 200
    assert objects(deployment, video_id)

    resp = client.delete(f"/videos/{video_id}")
    assert resp.status_code == 202, resp.text
    assert resp.json()["status"] == "deleting"
    # At once, before any purge: the old URL (not expired) is a 404.
    assert httpx.get(video["playback_url"]).status_code == 404

    wait_for(
        lambda: not any(pid_alive(p) for p in pids) and not worker.ffmpeg_pids(),
        10,
        "FFmpeg to be gone",
    )
    tombstone = wait_deleted(client, video_id)
    assert tombstone["deleted_at"] is not None
    assert tombstone["playback_url"] is None
    assert objects(deployment, video_id) == []
    assert httpx.get(video["playback_url"]).status_code == 404
    # The tombstone is out of the list unless asked for.
    listed = client.get("/videos", params={"project_id": project}).json()["data"]
    assert video_id not in [v["id"] for v in listed]
    listed = client.get("/videos", params={"project_id": project, "include_deleted": True})
    assert video_id in [v["id"] for v in listed.json()["data"]]
    again = client.delete(f"/videos/{video_id}")
    assert (again.status_code, again.json()["status"]) == (202, "deleted")


def test_sigkill_during_a_purge_then_a_new_worker_leaves_zero_objects(
    deployment: Cluster, client: httpx.Client
) -> None:
    project = create_project(client, "sigkill-purge")
    resp = client.post(
        f"/{project}/upload", files={"file": ("junk.mp4", b"not a video at all", "video/mp4")}
    )
    assert resp.status_code == 201, resp.text
    video_id = resp.json()["id"]
    assert wait_final(client, video_id)["status"] == "failed"
    bulk = deployment.data_dir / "objects" / "assets" / video_id / "bulk"
    for i in range(OBJECTS):
        folder = bulk / f"{i // 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i:05d}.bin").write_bytes(b"x")
    assert len(objects(deployment, video_id)) == OBJECTS + 1  # and the source

    [victim] = deployment.alive()
    assert client.delete(f"/videos/{video_id}").status_code == 202

    def mid_purge() -> int:
        left = len(objects(deployment, video_id))
        return left if 0 < left < OBJECTS - 50 else 0

    left = wait_for(mid_purge, 60, "the purge to be under way", 0.01)
    victim.sigkill()
    after_kill = len(objects(deployment, video_id))
    print(f"\nworker SIGKILLed with {left} of {OBJECTS + 1} objects left ({after_kill} after)")
    assert after_kill > 0, "the purge finished before the kill: nothing was resumed"
    time.sleep(0.5)
    assert len(objects(deployment, video_id)) == after_kill  # nobody purges meanwhile
    assert client.get(f"/videos/{video_id}").json()["status"] == "deleting"

    replacement: WorkerProcess = deployment.start_worker()
    wait_deleted(client, video_id, timeout=60)
    assert objects(deployment, video_id) == []
    assert not (deployment.data_dir / "objects" / "assets" / video_id).exists()
    jobs = client.get("/admin/jobs", params={"video_id": video_id}).json()
    purges = [j for j in jobs if j["kind"] == "purge"]
    assert [(j["status"], j["attempts"]) for j in purges] == [("succeeded", 2)], purges
    assert replacement.process.poll() is None
