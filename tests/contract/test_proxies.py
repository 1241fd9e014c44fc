"""Client addresses through a real `streamcore serve`: X-Forwarded-For is believed only
from a configured trusted proxy, for the login limit and the upload log alike."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from tests.fixtures.services import LiveServer, live_server, server_env
from tests.helpers import create_project


def _serve(tmp_path: Path, secret: str, **extra: str) -> tuple[Path, dict[str, str]]:
    db = tmp_path / "db.sqlite"
    env = server_env(
        tmp_path, f"sqlite+aiosqlite:///{db}", secret, STREAMCORE_AUTH__LOGIN_IP_LIMIT="3", **extra
    )
    return db, env


def _logins(server: LiveServer, forwarded: list[str]) -> list[int]:
    statuses = []
    with httpx.Client(base_url=server.base_url, timeout=30) as c:
        for n, address in enumerate(forwarded):
            resp = c.post(
                "/auth/login",
                json={"email": f"nobody{n}@example.com", "password": "guess guess"},
                headers={"X-Forwarded-For": address},
            )
            statuses.append(resp.status_code)
    return statuses


def _upload_addresses(server: LiveServer, db: Path, forwarded: str) -> list[str | None]:
    with httpx.Client(base_url=server.base_url, timeout=30, headers=server.auth_headers) as c:
        project = create_project(c)
        resp = c.post(
            f"/{project}/upload",
            files={"file": ("a.mp4", b"bytes", "video/mp4")},
            headers={"X-Forwarded-For": forwarded},
        )
        assert resp.status_code == 201, resp.text
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT client_ip FROM upload_logs")]


def test_a_rotated_forwarded_for_from_a_local_connection_is_not_believed(
    tmp_path: Path, secret: str
) -> None:
    db, env = _serve(tmp_path, secret)
    with live_server(tmp_path, env) as srv:
        # The fixture's own logins used two of the three attempts of 127.0.0.1.
        statuses = _logins(srv, [f"203.0.113.{i}" for i in range(1, 5)])
        assert statuses[-1] == 429
        assert statuses.count(401) <= 1
        assert _upload_addresses(srv, db, "203.0.113.77") == ["127.0.0.1"]


def test_behind_a_configured_proxy_the_forwarded_address_is_the_client(
    tmp_path: Path, secret: str
) -> None:
    db, env = _serve(tmp_path, secret, STREAMCORE_HTTP__TRUSTED_PROXIES="127.0.0.1/32,::1")
    with live_server(tmp_path, env) as srv:
        # Every client behind the proxy has its own limit ...
        assert _logins(srv, [f"198.51.100.{i}" for i in range(1, 6)]) == [401] * 5
        # ... and one client, however it rotates what it prepends, hits its own.
        spoofed = [f"10.0.0.{i}, 198.51.100.200" for i in range(1, 6)]
        assert _logins(srv, spoofed) == [401, 401, 401, 429, 429]
        assert _upload_addresses(srv, db, "10.1.1.1, 198.51.100.7") == ["198.51.100.7"]
