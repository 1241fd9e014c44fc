"""Import from URL: private, loopback, link-local and metadata addresses are refused,
in every spelling and after redirects, before a single request reaches them; a
permitted origin imports and plays.

There is no internet here, so 127.0.0.2 plays the public host: the allowlist setting
(`STREAMCORE_UPLOAD__URL_IMPORT_ALLOW_PRIVATE_NETWORKS=127.0.0.2/32`) lets exactly that
address through on one server; 127.0.0.1, where the counting origin listens, stays
forbidden. The refusal tests run on servers with the default (empty) allowlist."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.origin import Origin, origin_server
from tests.fixtures.services import LiveServer, live_server, server_env
from tests.helpers import create_project, wait_final

MAX_BYTES = 3_000_000


@pytest.fixture
def private_origin() -> Iterator[Origin]:
    """A server on loopback that URL import must never reach."""
    with origin_server("127.0.0.1") as origin:
        yield origin


@pytest.fixture(scope="module")
def public_origin() -> Iterator[Origin]:
    with origin_server("127.0.0.2") as origin:
        yield origin


@pytest.fixture(scope="module")
def allowing_server(tmp_path_factory: pytest.TempPathFactory, secret: str) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("url-import")
    env = server_env(
        data_dir, f"sqlite+aiosqlite:///{data_dir / 'db.sqlite'}", secret,
        STREAMCORE_UPLOAD__URL_IMPORT_ALLOW_PRIVATE_NETWORKS="127.0.0.2/32",
        STREAMCORE_UPLOAD__MAX_BYTES=str(MAX_BYTES),
    )  # fmt: skip
    with live_server(data_dir, env) as srv:
        yield srv


def import_url(client: httpx.Client, project: str, url: str) -> httpx.Response:
    return client.post(f"/{project}/upload", json={"url": url})


def test_forbidden_addresses_are_refused_before_any_request(
    server: LiveServer, private_origin: Origin
) -> None:
    port = private_origin.port
    urls = [
        f"http://127.0.0.1:{port}/clip.mp4",
        f"http://localhost:{port}/clip.mp4",
        f"http://[::1]:{port}/clip.mp4",
        f"http://[::ffff:127.0.0.1]:{port}/clip.mp4",
        "http://169.254.169.254/latest/meta-data/",
        f"http://2130706433:{port}/clip.mp4",  # decimal 127.0.0.1
        f"http://0177.0.0.1:{port}/clip.mp4",  # octal
        f"http://0x7f.0.0.1:{port}/clip.mp4",  # hex
        f"http://127.1:{port}/clip.mp4",  # short form
        f"http://0.0.0.0:{port}/clip.mp4",
        "http://10.0.0.1/clip.mp4",
        "http://224.0.0.1/clip.mp4",
        f"http://127.0.0.2:{port}/clip.mp4",  # not allowlisted on this server
        "ftp://127.0.0.1/clip.mp4",
        "file:///etc/passwd",
    ]
    with httpx.Client(base_url=server.base_url, timeout=30, headers=server.auth_headers) as client:
        project = create_project(client)
        for url in urls:
            resp = import_url(client, project, url)
            assert resp.status_code == 400, (url, resp.text)
            assert resp.json()["error"] == "BadRequest"
            assert "refused" in resp.json()["detail"], resp.text
        metrics = client.get("/metrics").text
    assert private_origin.requests == []
    assert 'streamcore_uploads_total{method="url",result="BadRequest"}' in metrics


def test_import_from_permitted_origin_reaches_ready(
    allowing_server: LiveServer, public_origin: Origin, media: Path
) -> None:
    url = public_origin.file("/videos/clip.mp4", (media / "short360.mp4").read_bytes())
    hop = public_origin.redirect("/share/abc", "/videos/clip.mp4")
    with httpx.Client(
        base_url=allowing_server.base_url, timeout=30, headers=allowing_server.auth_headers
    ) as client:
        project = create_project(client)
        for source in (url, hop):
            resp = import_url(client, project, source)
            assert resp.status_code == 201, resp.text
            created = resp.json()
            assert created["source"] == "url"
            assert created["filename"] == "clip.mp4"
            video = wait_final(client, created["id"])
            assert video["status"] == "ready", video
    # Connected by address, the name still travels in Host.
    assert public_origin.requests[0] == ("/videos/clip.mp4", f"127.0.0.2:{public_origin.port}")


def test_redirects_to_forbidden_addresses_are_refused(
    allowing_server: LiveServer, public_origin: Origin, private_origin: Origin
) -> None:
    port = private_origin.port
    targets = [
        f"http://127.0.0.1:{port}/clip.mp4",
        f"http://localhost:{port}/clip.mp4",
        f"http://[::1]:{port}/clip.mp4",
        f"http://2130706433:{port}/clip.mp4",
        "http://169.254.169.254/latest/meta-data/iam/",
    ]
    with httpx.Client(
        base_url=allowing_server.base_url, timeout=30, headers=allowing_server.auth_headers
    ) as client:
        project = create_project(client)
        for i, target in enumerate(targets):
            # One permitted hop first, then the redirect to a forbidden place.
            first = public_origin.redirect(f"/r{i}", f"/s{i}")
            public_origin.redirect(f"/s{i}", target)
            resp = import_url(client, project, first)
            assert resp.status_code == 400, (target, resp.text)
            assert "refused" in resp.json()["detail"]
        chain = [public_origin.redirect(f"/hop{n}", f"/hop{n + 1}") for n in range(4)]
        resp = import_url(client, project, chain[0])
        assert resp.status_code == 400
        assert "redirects" in resp.json()["detail"]
    assert private_origin.requests == []


def test_size_limit_and_bad_answers(allowing_server: LiveServer, public_origin: Origin) -> None:
    big = b"\0" * (MAX_BYTES + 1)
    announced = public_origin.file("/big.mp4", big)
    public_origin.routes["/big-chunked.mp4"] = (200, {"X-Chunked": "1"}, big)
    with httpx.Client(
        base_url=allowing_server.base_url, timeout=30, headers=allowing_server.auth_headers
    ) as client:
        project = create_project(client)
        assert import_url(client, project, announced).status_code == 413
        resp = import_url(client, project, public_origin.base + "/big-chunked.mp4")
        assert resp.status_code == 413
        missing = import_url(client, project, public_origin.base + "/nope.mp4")
        assert missing.status_code == 400
        assert "404" in missing.json()["detail"]
        empty = import_url(client, project, public_origin.file("/empty.mp4", b""))
        assert empty.status_code == 400
        invalid = client.post(f"/{project}/upload", json={"url": "not a url"})
        assert invalid.status_code == 422
    objects = allowing_server.data_dir / "objects"
    leftovers = [p for p in objects.rglob("*") if p.is_file() and "/hls/" not in str(p)]
    sources = [p for p in leftovers if p.name == "source"]
    # Only the two successful imports of the previous test left a source object.
    assert len(sources) <= 2
    assert not [p for p in leftovers if p.name.endswith(".part")]
    with sqlite3.connect(allowing_server.data_dir / "db.sqlite") as db:
        rows = set(db.execute("SELECT method, result FROM upload_logs").fetchall())
    assert {("url", "ok"), ("url", "BadRequest"), ("url", "PayloadTooLarge")} <= rows
