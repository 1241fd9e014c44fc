"""The README's quick start: `streamcore migrate` and `streamcore demo` as a user runs them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.services import free_port


def run_cli(tmp_path: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMCORE_")}
    env["STREAMCORE_MEDIA__PRESET"] = "ultrafast"
    return subprocess.run(
        [sys.executable, "-m", "streamcore", *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def test_migrate_creates_the_embedded_database(tmp_path: Path) -> None:
    out = run_cli(tmp_path, "migrate")
    assert out.returncode == 0, out.stderr
    assert "database at revision" in out.stderr
    assert (tmp_path / "data" / "streamcore.db").is_file()


@pytest.mark.slow
def test_demo_runs_a_clip_to_playback_with_zero_config(tmp_path: Path) -> None:
    out = run_cli(tmp_path, "demo", "--port", str(free_port()), "--exit")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Ready." in out.stderr
    assert "/stream/" in out.stderr
    assert "/embed/" in out.stderr
    # The web console, and the demo user's credentials to sign in with.
    assert re.search(
        r"Web console: http://127\.0\.0\.1:\d+/console \(sign in as demo@streamcore\.local, "
        r"password \S+\)",
        out.stderr,
    ), out.stderr
    # Zero config: everything lives under ./data.
    assert (tmp_path / "data" / "streamcore.db").is_file()
    assert any((tmp_path / "data" / "objects" / "assets").rglob("master.m3u8"))


def test_admin_create_user_is_idempotent(tmp_path: Path) -> None:
    args = ("admin", "create-user", "--email", "Owner@Example.com", "--password", "first password")
    out = run_cli(tmp_path, *args)
    assert out.returncode == 0, out.stderr
    assert "created" in out.stderr
    again = run_cli(tmp_path, *args[:-1], "second password", "--superadmin")
    assert again.returncode == 0, again.stderr
    assert "updated" in again.stderr
    bad = run_cli(tmp_path, "admin", "create-user", "--email", "x", "--password", "long enough")
    assert bad.returncode == 2
    assert "not an email address" in bad.stderr


def test_admin_replay_dlq_on_an_empty_embedded_database(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "migrate").returncode == 0
    out = run_cli(tmp_path, "admin", "replay-dlq")
    assert out.returncode == 0, out.stderr
    assert "0 job(s) put back in the queue" in out.stderr
