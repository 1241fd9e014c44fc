"""Resumable uploads with a real tus client (tuspy), on every storage backend."""

from __future__ import annotations

import base64
import hashlib
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from tusclient.client import TusClient

from tests.fixtures.services import LiveServer
from tests.helpers import create_project, wait_final
from tests.uploads.helpers import TUS, create, head, meta_header


def patch_and_drop(url: str, data: bytes, sent: int, token: str) -> None:
    """A PATCH that promises all of data but sends only `sent` bytes, then the
    connection drops."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(
            (
                f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                f"Authorization: Bearer {token}\r\n"
                "Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                "Content-Type: application/offset+octet-stream\r\n"
                f"Content-Length: {len(data)}\r\n\r\n"
            ).encode()
            + data[:sent]
        )
        time.sleep(0.3)


def test_tuspy_upload_in_chunks_reaches_ready(storage_server: LiveServer, media: Path) -> None:
    with httpx.Client(
        base_url=storage_server.base_url, timeout=60, headers=storage_server.auth_headers
    ) as client:
        project = create_project(client)
        clip = media / "short360.mp4"
        tus = TusClient(
            f"{storage_server.base_url}/uploads/tus/", headers=storage_server.auth_headers
        )
        uploader = tus.uploader(
            str(clip),
            chunk_size=64 * 1024,
            metadata={"project_id": project, "filename": clip.name, "filetype": "video/mp4"},
            upload_checksum=True,
        )
        uploader.upload()
        info = head(client, uploader.url)
        assert info.status_code == 200
        assert info.headers["upload-offset"] == str(clip.stat().st_size)
        video = wait_final(client, info.headers["x-asset-id"])
        assert video["status"] == "ready", video
        assert video["filename"] == clip.name
        assert video["size_bytes"] == clip.stat().st_size


def test_dropped_connection_resumes_where_it_broke(storage_server: LiveServer, media: Path) -> None:
    clip = media / "short360.mp4"
    data = clip.read_bytes()
    with httpx.Client(
        base_url=storage_server.base_url, timeout=60, headers=storage_server.auth_headers
    ) as client:
        project = create_project(client)
        url = create(client, project, len(data))
        patch_and_drop(url, data, len(data) // 2, storage_server.token)
        deadline = time.monotonic() + 10
        while int(head(client, url).headers["upload-offset"]) == 0:
            assert time.monotonic() < deadline, "the server kept none of the bytes"
            time.sleep(0.1)
        kept = int(head(client, url).headers["upload-offset"])
        assert 0 < kept <= len(data) // 2
        # A fresh tus client resumes from the server's offset and finishes.
        uploader = TusClient(
            f"{storage_server.base_url}/uploads/tus/", headers=storage_server.auth_headers
        ).uploader(str(clip), url=url)
        assert uploader.offset == kept
        uploader.upload()
        asset_id = head(client, url).headers["x-asset-id"]
        video = wait_final(client, asset_id)
        assert video["status"] == "ready", video
        assert video["size_bytes"] == len(data)


def test_tus_protocol_rules(server: LiveServer) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30, headers=server.auth_headers) as client:
        options = client.options("/uploads/tus/")
        assert options.status_code == 204
        assert options.headers["tus-version"] == "1.0.0"
        assert "creation" in options.headers["tus-extension"]
        assert "sha1" in options.headers["tus-checksum-algorithm"]

        project = create_project(client)
        bad = client.post("/uploads/tus/", headers={"Upload-Length": "10"})
        assert bad.status_code == 412
        no_project = client.post("/uploads/tus/", headers={**TUS, "Upload-Length": "10"})
        assert no_project.status_code == 400
        unknown = client.post(
            "/uploads/tus/",
            headers={
                **TUS,
                "Upload-Length": "10",
                "Upload-Metadata": meta_header(project_id="0" * 32),
            },
        )
        assert unknown.status_code == 404
        malformed = client.post(
            "/uploads/tus/",
            headers={**TUS, "Upload-Length": "10", "Upload-Metadata": meta_header(project_id="x")},
        )
        assert malformed.status_code == 400

        url = create(client, project, 10)
        octet = {**TUS, "Content-Type": "application/offset+octet-stream"}
        wrong_type = client.patch(url, content=b"abc", headers={**TUS, "Upload-Offset": "0"})
        assert wrong_type.status_code == 415
        wrong_offset = client.patch(url, content=b"abc", headers={**octet, "Upload-Offset": "3"})
        assert wrong_offset.status_code == 409
        digest = base64.b64encode(hashlib.sha1(b"xyz").digest()).decode()
        mismatch = client.patch(
            url,
            content=b"abc",
            headers={**octet, "Upload-Offset": "0", "Upload-Checksum": f"sha1 {digest}"},
        )
        assert mismatch.status_code == 460
        assert head(client, url).headers["upload-offset"] == "0"
        ok = client.patch(url, content=b"abc", headers={**octet, "Upload-Offset": "0"})
        assert ok.status_code == 204
        assert ok.headers["upload-offset"] == "3"
        too_much = client.patch(url, content=b"x" * 20, headers={**octet, "Upload-Offset": "3"})
        assert too_much.status_code == 413
        assert head(client, url).headers["upload-offset"] == "3"

        asset_id = head(client, url).headers["x-asset-id"]
        assert client.delete(url, headers=TUS).status_code == 204
        assert head(client, url).status_code == 410
        assert client.get(f"/videos/{asset_id}").json()["status"] == "cancelled"
        assert not list((server.data_dir / "objects" / "uploads").rglob("*-*"))
        metrics = client.get("/metrics").text
        assert 'streamcore_uploads_total{method="tus",result="ChecksumMismatch"}' in metrics
