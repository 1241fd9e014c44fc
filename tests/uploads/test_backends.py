"""`POST /{project}/upload` streams to every backend (S3 multipart parts, Azure staged
blocks, local disk) and every attempt lands in the upload log."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.fixtures.media import make_raw_clip
from tests.fixtures.services import LiveServer
from tests.helpers import create_project, upload, wait_final
from tests.uploads.helpers import OCTET, TUS, create, send

pytestmark = pytest.mark.slow


def test_multipart_form_upload_in_parts_reaches_ready(
    storage_server: LiveServer, tmp_path: Path
) -> None:
    # Over two 5 MiB parts: S3 sees a multipart upload, Azure three staged blocks.
    clip = make_raw_clip(tmp_path / "raw.avi", seconds=3)
    with httpx.Client(
        base_url=storage_server.base_url, timeout=60, headers=storage_server.auth_headers
    ) as client:
        project = create_project(client)
        created = upload(client, project, clip)
        assert created["size_bytes"] == clip.stat().st_size
        video = wait_final(client, created["id"])
        assert video["status"] == "ready", video
        assert video["probe"]["container"] == "avi"


def test_every_method_is_in_the_upload_log(storage_server: LiveServer) -> None:
    database = storage_server.env["STREAMCORE_DATABASE__URL"]
    if not database.startswith("sqlite"):
        pytest.skip("read back on the SQLite servers")
    data = b"not really a video"
    with httpx.Client(
        base_url=storage_server.base_url, timeout=60, headers=storage_server.auth_headers
    ) as client:
        project = create_project(client)
        upload(client, project, _write(storage_server.data_dir / "log.mp4", data))
        body = {"project_id": project, "filename": "p.mp4", "size": len(data)}
        plan = client.post("/uploads/presign", json=body).json()
        assert client.post(plan["complete_url"]).status_code == 409
        send(plan, data)
        assert client.post(plan["complete_url"]).status_code == 200
        url = create(client, project, len(data))
        headers = {**TUS, "Upload-Offset": "0", "Content-Type": OCTET}
        assert client.patch(url, content=data, headers=headers).status_code == 204
    with sqlite3.connect(database.split("///", 1)[1]) as db:
        rows = db.execute(
            "SELECT method, result FROM upload_logs WHERE project_id = ?", (project,)
        ).fetchall()
    assert sorted(set(rows)) == [
        ("multipart", "ok"),
        ("presign", "UploadNotComplete"),
        ("presign", "issued"),
        ("presign", "ok"),
        ("tus", "ok"),
    ]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
