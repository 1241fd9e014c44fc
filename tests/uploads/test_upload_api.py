"""Bad uploads get a clear 4xx and leave nothing behind."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.fixtures.services import LiveServer, live_server, server_env
from tests.helpers import create_project


def stored_assets(data_dir: Path) -> set[str]:
    root = data_dir / "objects" / "assets"
    return {p.name for p in root.iterdir()} if root.exists() else set()


def partial_files(data_dir: Path) -> list[Path]:
    return list((data_dir / "objects").rglob("*.part"))


def test_unknown_project_is_404(client: httpx.Client) -> None:
    resp = client.post(f"/{'0' * 32}/upload", files={"file": ("a.mp4", b"x", "video/mp4")})
    assert resp.status_code == 404
    assert resp.json() == {"error": "NotFound", "detail": "project not found"}


def test_not_multipart_is_415(client: httpx.Client) -> None:
    project = create_project(client)
    resp = client.post(f"/{project}/upload", content=b"raw", headers={"content-type": "video/mp4"})
    assert resp.status_code == 415
    assert resp.json()["error"] == "UnsupportedMediaType"


def test_form_without_file_and_empty_file_are_400(server: LiveServer, client: httpx.Client) -> None:
    project = create_project(client)
    before = stored_assets(server.data_dir)
    resp = client.post(f"/{project}/upload", data={"name": "x"}, files={"other": (None, "y")})
    assert resp.status_code == 400, resp.text
    resp = client.post(f"/{project}/upload", files={"file": ("empty.mp4", b"", "video/mp4")})
    assert resp.status_code == 400
    assert resp.json() == {"error": "BadRequest", "detail": "the uploaded file is empty"}
    assert stored_assets(server.data_dir) == before
    assert partial_files(server.data_dir) == []


def test_session_of_another_project_is_404(client: httpx.Client) -> None:
    p1, p2 = create_project(client), create_project(client)
    sess = client.post("/sessions", json={"project_id": p1, "name": "s"}).json()
    assert client.get(f"/sessions/{sess['id']}").json()["project_id"] == p1
    resp = client.post(
        f"/{p2}/upload",
        data={"session_id": sess["id"]},
        files={"file": ("a.mp4", b"x", "video/mp4")},
    )
    assert resp.status_code == 404


def test_oversized_upload_is_413_and_leaves_nothing(
    tmp_path: Path, pg_server_url: str, secret: str
) -> None:
    env = server_env(
        tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", secret,
        STREAMCORE_UPLOAD__MAX_BYTES="100000",
    )  # fmt: skip
    with (
        live_server(tmp_path, env) as srv,
        httpx.Client(base_url=srv.base_url, timeout=30, headers=srv.auth_headers) as c,
    ):
        project = create_project(c)
        # Declared too large: refused before a byte is read.
        resp = c.post(
            f"/{project}/upload", files={"file": ("big.mp4", b"x" * 200_000, "video/mp4")}
        )
        assert resp.status_code == 413
        assert resp.json()["error"] == "PayloadTooLarge"

        # Streamed without a length: refused once the limit is crossed.
        def gen() -> object:
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\n'
            for _ in range(50):
                yield b"y" * 10_000
            yield b"\r\n--b--\r\n"

        resp = c.post(
            f"/{project}/upload",
            content=gen(),  # type: ignore[arg-type]
            headers={"content-type": "multipart/form-data; boundary=b"},
        )
        assert resp.status_code == 413
        assert stored_assets(tmp_path) == set()
        assert partial_files(tmp_path) == []
        logs = c.get("/metrics").text
        assert 'streamcore_uploads_total{method="multipart",result="PayloadTooLarge"}' in logs


def test_health_and_metrics(client: httpx.Client) -> None:
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json()["checks"] == {"database": "ok", "storage": "ok", "bus": "ok"}
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert "streamcore_http_requests_total" in metrics.text
    assert "process_resident_memory_bytes" in metrics.text


def test_unknown_route_and_bad_json_are_json_errors(client: httpx.Client) -> None:
    assert client.get("/no/such/route").json()["error"] == "NotFound"
    resp = client.post("/projects", json={"name": ""})
    assert resp.status_code == 422
    assert resp.json()["error"] == "ValidationError"
    resp = client.post("/sessions", json={"project_id": "0" * 32})
    assert resp.status_code == 404
