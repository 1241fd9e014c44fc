"""The server limits of `STREAMCORE_HTTP__*` as `streamcore serve` (Granian) applies
them: huge headers, too many headers and long request lines are refused before the app
sees them; connections that trickle headers in do not grow the server's memory and are
closed after the header timeout; a stalled request body counts as the client gone."""

from __future__ import annotations

import base64
import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.fixtures.services import LiveServer, live_server, server_env
from tests.helpers import create_project

MiB = 1024 * 1024
HEADER_TIMEOUT = 3
BODY_TIMEOUT = 2


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory, secret: str) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("limits")
    env = server_env(
        data, f"sqlite+aiosqlite:///{data / 'db.sqlite'}", secret,
        STREAMCORE_HTTP__HEADER_READ_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
        STREAMCORE_HTTP__BODY_READ_TIMEOUT_SECONDS=str(BODY_TIMEOUT),
    )  # fmt: skip
    with live_server(data, env) as srv:
        yield srv


def _port(server: LiveServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


def _rss(server: LiveServer) -> int:
    root = psutil.Process(server.process.pid)
    return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])


def test_a_one_mib_header_is_431(plain_server: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", _port(plain_server)), timeout=30) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * MiB + b"\r\n\r\n")
        status_line = s.recv(200).split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 431"), status_line


def test_fifty_slow_header_connections_leave_memory_growth_under_50_mb(
    plain_server: LiveServer, tmp_path: Path
) -> None:
    before = _rss(plain_server)
    conns = [
        socket.create_connection(("127.0.0.1", _port(plain_server)), timeout=30) for _ in range(50)
    ]
    try:
        for conn in conns:
            conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        # 20 rounds of 16 KiB of header per connection: 16 MiB in all, never finished.
        for n in range(20):
            for conn in conns:
                # The server may give up on a connection: that is allowed.
                with contextlib.suppress(OSError):
                    conn.sendall(f"X-Slow-{n}: ".encode() + b"b" * 16 * 1024 + b"\r\n")
            time.sleep(0.05)
        during = _rss(plain_server)
    finally:
        for conn in conns:
            conn.close()
    growth = during - before
    print(f"rss before={before / MiB:.1f} MiB during={during / MiB:.1f} MiB")
    assert growth < 50 * MiB, growth


def _status(server: LiveServer, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=30) as s:
        s.sendall(data)
        return s.recv(200).split(b"\r\n", 1)[0]


def test_header_count_and_request_line_limits(plain_server: LiveServer) -> None:
    head = "".join(f"X-H{i}: v\r\n" for i in range(90))
    ok = _status(plain_server, f"GET /health HTTP/1.1\r\nHost: x\r\n{head}\r\n".encode())
    assert ok.startswith(b"HTTP/1.1 200"), ok
    many = "".join(f"X-H{i}: v\r\n" for i in range(150))
    refused = _status(plain_server, f"GET /health HTTP/1.1\r\nHost: x\r\n{many}\r\n".encode())
    assert refused.startswith(b"HTTP/1.1 431"), refused
    # max_header_bytes (128 KiB by default) bounds the head: 100 KiB of header passes,
    # 200 KiB does not (Granian's own default would take 400 KiB).
    for size, want in ((100 * 1024, b"HTTP/1.1 200"), (200 * 1024, b"HTTP/1.1 431")):
        got = _status(
            plain_server, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * size + b"\r\n\r\n"
        )
        assert got.startswith(want), (size, got)
    # The URI is capped by the HTTP library at 64 KiB: 414 past it.
    line = b"GET /health?" + b"a" * 70 * 1024 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert _status(plain_server, line).startswith(b"HTTP/1.1 414")


def _closed_after(conn: socket.socket, limit: float) -> float:
    """Seconds until the server closes conn (reads until EOF), at most limit."""
    started = time.monotonic()
    conn.settimeout(limit)
    with contextlib.suppress(ConnectionResetError):
        while conn.recv(65536):
            pass
    return time.monotonic() - started


def test_idle_and_half_sent_heads_are_closed_after_the_header_timeout(
    plain_server: LiveServer,
) -> None:
    port = _port(plain_server)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as idle:
        idle.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert idle.recv(200).startswith(b"HTTP/1.1 200")
        # Kept alive, then idle: closed once the header timeout passes.
        waited = _closed_after(idle, HEADER_TIMEOUT * 5)
    assert waited < HEADER_TIMEOUT * 3, waited
    with socket.create_connection(("127.0.0.1", port), timeout=30) as half:
        half.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        waited = _closed_after(half, HEADER_TIMEOUT * 5)
    assert HEADER_TIMEOUT * 0.8 < waited < HEADER_TIMEOUT * 3, waited


def test_a_stalled_tus_body_ends_the_request_and_keeps_what_arrived(
    plain_server: LiveServer,
) -> None:
    headers = {**plain_server.auth_headers, "Tus-Resumable": "1.0.0"}
    with httpx.Client(base_url=plain_server.base_url, headers=headers, timeout=30) as client:
        project = create_project(client)
        meta = "project_id " + base64.b64encode(project.encode()).decode()
        created = client.post(
            "/uploads/tus/", headers={"Upload-Length": "100000", "Upload-Metadata": meta}
        )
        assert created.status_code == 201, created.text
        path = httpx.URL(created.headers["location"]).path
        head = (
            f"PATCH {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {headers['Authorization']}\r\n"
            "Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
            "Content-Type: application/offset+octet-stream\r\nContent-Length: 100000\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", _port(plain_server)), timeout=30) as s:
            s.sendall(head.encode() + b"x" * 30000)
            started = time.monotonic()
            s.settimeout(BODY_TIMEOUT * 10)
            answer = s.recv(200)  # the stalled request ends without more bytes from us
            waited = time.monotonic() - started
        assert BODY_TIMEOUT * 0.8 < waited < BODY_TIMEOUT * 5, (waited, answer)
        offset = client.head(path).headers["upload-offset"]
    assert offset == "30000"
