"""The locust load smoke (tests/load/locustfile.py), headless and short, against a live
server on PostgreSQL with one ready video: it fails on any error, and every endpoint of
the mix must have been hit."""

from __future__ import annotations

import asyncio
import csv
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx

from streamcore.auth.bootstrap import ensure_user
from tests.fixtures.services import live_server, postgres_database, server_env, settings_of
from tests.helpers import create_project, upload, wait_final

HERE = Path(__file__).resolve().parent
SECONDS, USERS = 12, 8
ENDPOINTS = {"/health", "login", "/projects", "/videos/{id}", "master playlist"}


def test_load_smoke_has_no_errors(tmp_path: Path, media: Path, secret: str) -> None:
    email, password = "load@streamcore.test", secrets.token_urlsafe(16)
    limits = {f"STREAMCORE_AUTH__LOGIN_{scope}_LIMIT": "100000"
              for scope in ("IP", "PAIR", "ACCOUNT")}  # fmt: skip
    with postgres_database() as db_url:
        env = server_env(tmp_path / "data", db_url, secret, **limits)
        with live_server(tmp_path / "data", env) as srv:
            asyncio.run(ensure_user(settings_of(srv.env), email, password, False))
            token = httpx.post(
                f"{srv.base_url}/auth/login", json={"email": email, "password": password}
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=srv.base_url, headers=headers, timeout=60) as client:
                video = upload(client, create_project(client), media / "short360.mp4")
                assert wait_final(client, video["id"])["status"] == "ready"
            load_env = {**os.environ, "STREAMCORE_LOAD_EMAIL": email,
                        "STREAMCORE_LOAD_PASSWORD": password,
                        "STREAMCORE_LOAD_VIDEO_ID": video["id"]}  # fmt: skip
            started = time.monotonic()
            run = subprocess.run(
                [sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"),
                 "--headless", "-u", str(USERS), "-r", str(USERS), "-t", f"{SECONDS}s",
                 "--host", srv.base_url, "--csv", str(tmp_path / "load"), "--only-summary",
                 "--stop-timeout", "5"],
                env=load_env, capture_output=True, text=True, timeout=SECONDS + 60,
            )  # fmt: skip
            elapsed = time.monotonic() - started
    report = run.stdout[-4000:] + run.stderr[-4000:]
    assert run.returncode == 0, report
    with open(tmp_path / "load_stats.csv") as f:
        rows = {r["Name"]: r for r in csv.DictReader(f)}
    for name in ENDPOINTS:
        assert int(rows[name]["Request Count"]) > 0, (name, report)
        assert int(rows[name]["Failure Count"]) == 0, (name, report)
    assert int(rows["Aggregated"]["Failure Count"]) == 0, report
    assert elapsed < SECONDS + 30, elapsed
