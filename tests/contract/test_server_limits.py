"""Header limits of the server `streamcore serve` runs (Granian): a huge header is
refused with 431 before the app sees it, and connections that trickle headers in do
not grow the server's memory."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.fixtures.services import LiveServer, live_server, server_env

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory, secret: str) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("limits")
    env = server_env(data, f"sqlite+aiosqlite:///{data / 'db.sqlite'}", secret)
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
