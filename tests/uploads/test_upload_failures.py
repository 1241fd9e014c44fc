"""Uploads that go wrong: the client leaves mid-body, storage is down. No asset is left
`uploaded` without its object, nothing partial stays behind, the client gets a clear
4xx (or 503), and the attempt is in the upload log."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from streamcore.security.stream_tokens import TokenCodec
from tests.fixtures.object_stores import S3Server, free_port_pair
from tests.fixtures.services import LiveServer, live_server, server_env
from tests.helpers import create_project
from tests.uploads.helpers import TUS, create


def metric(client: httpx.Client, method: str, result: str) -> float:
    needle = f'streamcore_uploads_total{{method="{method}",result="{result}"}} '
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(needle):
            return float(line.split()[-1])
    return 0.0


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_client_disconnect_mid_upload_leaves_nothing(server: LiveServer) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30, headers=server.auth_headers) as client:
        project = create_project(client)
        before = metric(client, "multipart", "ClientGone")
        objects = server.data_dir / "objects" / "assets"
        existing = set(files_under(objects))
        head = (
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n'
            b"Content-Type: video/mp4\r\n\r\n"
        )
        parts = urlsplit(server.base_url)
        with socket.create_connection((parts.hostname, parts.port)) as sock:
            sock.sendall(
                (
                    f"POST /{project}/upload HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                    f"Authorization: Bearer {server.token}\r\n"
                    "Content-Type: multipart/form-data; boundary=b\r\n"
                    "Content-Length: 10000000\r\n\r\n"
                ).encode()
                + head
                + b"x" * 2_000_000
            )
            time.sleep(0.3)
        deadline = time.monotonic() + 10
        while metric(client, "multipart", "ClientGone") == before:
            assert time.monotonic() < deadline, "the disconnect was not logged"
            time.sleep(0.1)
        assert set(files_under(objects)) == existing


@pytest.fixture(scope="module")
def storage_down_server(
    tmp_path_factory: pytest.TempPathFactory, secret: str
) -> Iterator[LiveServer]:
    """A server whose S3 endpoint does not answer."""
    data_dir = tmp_path_factory.mktemp("storage-down")
    dead = S3Server(f"http://127.0.0.1:{free_port_pair()}", "k", "s", "b")
    env = server_env(
        data_dir, f"sqlite+aiosqlite:///{data_dir / 'db.sqlite'}", secret,
        **{**dead.env(), "STREAMCORE_STORAGE__S3_CREATE_BUCKET": "false"},
        STREAMCORE_STORAGE__RETRIES="0",
        # Start degraded at once instead of waiting for the storage.
        STREAMCORE_STARTUP_TIMEOUT_SECONDS="1",
        STREAMCORE_UPLOAD__MULTIPART_THRESHOLD_BYTES=str(5 * 1024 * 1024),
    )  # fmt: skip
    with live_server(data_dir, env, healthy=False) as srv:
        yield srv


def test_storage_down_is_503_everywhere(storage_down_server: LiveServer) -> None:
    with httpx.Client(
        base_url=storage_down_server.base_url, timeout=30, headers=storage_down_server.auth_headers
    ) as client:
        health = client.get("/health")
        assert health.status_code == 503
        assert health.json()["checks"]["storage"].startswith("error")
        project = create_project(client)

        resp = client.post(f"/{project}/upload", files={"file": ("a.mp4", b"x" * 1000)})
        assert resp.status_code == 503, resp.text
        assert resp.json() == {
            "error": "ServiceUnavailable",
            "detail": "object storage is unavailable",
        }
        assert metric(client, "multipart", "ServiceUnavailable") == 1

        body = {"project_id": project, "filename": "a.mp4", "size": 50 * 1024 * 1024}
        assert client.post("/uploads/presign", json=body).status_code == 503

        small = client.post("/uploads/presign", json={**body, "size": 1000})
        assert small.status_code == 201  # signing needs no round trip
        done = client.post(small.json()["complete_url"])
        assert done.status_code == 503
        video = client.get(f"/videos/{small.json()['asset_id']}").json()
        assert video["status"] == "awaiting_upload"

        url = create(client, project, 10)
        patch = client.patch(
            url,
            content=b"0123456789",
            headers={
                **TUS,
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert patch.status_code == 503
        assert client.head(url, headers=TUS).headers["upload-offset"] == "0"


def test_storage_down_is_503_for_playback(storage_down_server: LiveServer) -> None:
    codec = TokenCodec.from_secret(storage_down_server.env["STREAMCORE_SECRET_KEY"])
    for path in ("hls/master.m3u8", "hls/720p/seg_00000.ts"):
        token = codec.issue("a" * 26, path, 60) + path[path.rindex(".") :]
        resp = httpx.get(f"{storage_down_server.base_url}/stream/{token}", timeout=30)
        assert resp.status_code == 503, resp.text
        assert resp.json() == {
            "error": "ServiceUnavailable",
            "detail": "object storage is unavailable",
        }
        assert resp.headers["retry-after"] == "5"
