"""Presigned uploads end to end with a plain HTTP client, on every storage backend:
the bytes go to S3 (SeaweedFS), Azure (Azurite) or the API's own signed URL, then
complete, and the video reaches `ready` and plays."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from tests.fixtures.media import make_raw_clip
from tests.fixtures.services import LiveServer
from tests.helpers import create_project, parse_master, wait_final
from tests.uploads.helpers import send

pytestmark = pytest.mark.slow


@pytest.fixture
def client(storage_server: LiveServer) -> httpx.Client:
    with httpx.Client(
        base_url=storage_server.base_url, timeout=60, headers=storage_server.auth_headers
    ) as c:
        yield c  # type: ignore[misc]


def backend_of(server: LiveServer) -> str:
    return server.env.get("STREAMCORE_STORAGE__BACKEND", "local")


def presign(client: httpx.Client, project: str, path: Path, **extra: object) -> dict[str, object]:
    body = {"project_id": project, "filename": path.name, "content_type": "video/mp4"}
    resp = client.post("/uploads/presign", json={**body, "size": path.stat().st_size, **extra})
    assert resp.status_code == 201, resp.text
    out: dict[str, object] = resp.json()
    return out


def test_presigned_upload_reaches_ready_and_plays(
    storage_server: LiveServer, client: httpx.Client, media: Path
) -> None:
    project = create_project(client)
    clip = media / "short360.mp4"
    plan = presign(client, project, clip)
    assert plan["method"] == "single"
    backend = backend_of(storage_server)
    if backend == "local":
        assert str(plan["url"]).startswith(storage_server.base_url + "/uploads/")
    else:
        assert not str(plan["url"]).startswith(storage_server.base_url)
    asset_id = str(plan["asset_id"])
    assert client.get(f"/videos/{asset_id}").json()["status"] == "awaiting_upload"

    send(plan, clip.read_bytes())
    done = client.post(str(plan["complete_url"]))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "uploaded"
    # Completing again is harmless: one asset, one ingest.
    assert client.post(f"/uploads/{asset_id}/complete").status_code == 200

    video = wait_final(client, asset_id)
    assert video["status"] == "ready", video
    master_url = video["playback_url"]
    master = client.get(master_url)
    assert master.status_code == 200
    variant_url = urljoin(master_url, parse_master(master.text)[0]["URI"])
    variant = client.get(variant_url)
    assert variant.status_code == 200
    seg_url = urljoin(
        variant_url, next(ln for ln in variant.text.splitlines() if ln and ln[0] != "#")
    )
    whole = client.get(seg_url, follow_redirects=True)
    assert whole.status_code == 200
    assert whole.content[:1] == b"\x47"
    part = client.get(seg_url, headers={"Range": "bytes=188-375"}, follow_redirects=True)
    assert part.status_code == 206
    assert part.content == whole.content[188:376]
    if backend == "azure":
        # Configured to redirect: the segment comes from a short-lived SAS URL.
        redirect = client.get(seg_url)
        assert redirect.status_code == 302
        assert "sig=" in redirect.headers["location"]
    else:
        assert part.headers["content-range"] == f"bytes 188-375/{len(whole.content)}"
    metrics = client.get("/metrics").text
    assert 'streamcore_uploads_total{method="presign",result="ok"}' in metrics


def test_presigned_multipart_upload_reaches_ready(
    storage_server: LiveServer, client: httpx.Client, tmp_path: Path
) -> None:
    clip = make_raw_clip(tmp_path / "raw.avi", seconds=3)
    assert clip.stat().st_size > 5 * 1024 * 1024
    project = create_project(client)
    plan = presign(client, project, clip)
    if backend_of(storage_server) == "local":
        # The API streams any size through one signed PUT.
        assert plan["method"] == "single"
    else:
        assert plan["method"] == "multipart"
        parts = plan["parts"]
        assert len(parts) == -(-clip.stat().st_size // (5 * 1024 * 1024))  # type: ignore[arg-type]
        assert len(parts) >= 2  # type: ignore[arg-type]
        # Parts missing: complete refuses and the asset waits.
        early = client.post(str(plan["complete_url"]))
        assert early.status_code == 409, early.text
    send(plan, clip.read_bytes())
    assert client.post(str(plan["complete_url"])).status_code == 200
    video = wait_final(client, str(plan["asset_id"]))
    assert video["status"] == "ready", video
    assert video["size_bytes"] == clip.stat().st_size


def test_complete_checks_presence_and_size(
    storage_server: LiveServer, client: httpx.Client, media: Path
) -> None:
    project = create_project(client)
    clip = media / "short360.mp4"
    plan = presign(client, project, clip)
    asset_id = str(plan["asset_id"])
    missing = client.post(f"/uploads/{asset_id}/complete")
    assert missing.status_code == 409
    assert missing.json()["error"] == "UploadNotComplete"

    data = clip.read_bytes()
    if backend_of(storage_server) == "local":
        # The API itself refuses a body that is not the declared size.
        # Each on a connection of its own: a server that refuses a body before
        # reading it may close the connection after its answer.
        resp = httpx.put(str(plan["url"]), content=data[:-10], timeout=60)
        assert resp.status_code == 400, resp.text
        bad = dict(plan, url=str(plan["url"]).replace("sig=", "sig=0"))
        assert httpx.put(str(bad["url"]), content=data, timeout=60).status_code == 403
    else:
        send(plan, data[:-10])
        short = client.post(f"/uploads/{asset_id}/complete")
        assert short.status_code == 400
        assert short.json()["error"] == "SizeMismatch"
    assert client.get(f"/videos/{asset_id}").json()["status"] == "awaiting_upload"
    # The wrong object is gone; the right one can still be sent.
    send(plan, data)
    assert client.post(f"/uploads/{asset_id}/complete").status_code == 200


def test_presign_refuses_bad_requests(client: httpx.Client) -> None:
    project = create_project(client)
    body = {"project_id": project, "filename": "a.mp4", "content_type": "video/mp4"}
    assert client.post("/uploads/presign", json={**body, "size": 0}).status_code == 422
    too_big = client.post("/uploads/presign", json={**body, "size": 10**15})
    assert too_big.status_code == 413
    unknown = client.post("/uploads/presign", json={**body, "project_id": "0" * 32, "size": 5})
    assert unknown.status_code == 404
    malformed = client.post("/uploads/presign", json={**body, "project_id": "nope", "size": 5})
    assert malformed.status_code == 422
    assert client.post(f"/uploads/{'0' * 32}/complete").status_code == 404
