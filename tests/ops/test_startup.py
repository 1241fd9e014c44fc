"""Distributed nodes start cleanly: they refuse to run without the shared secret, they
wait for a database that is not there yet instead of exiting, and concurrent
migrations on an empty PostgreSQL all succeed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from streamcore.config import ConfigError, Settings
from streamcore.db import migrate
from streamcore.db.session import create_engine
from tests.fixtures.cluster import env_without_streamcore
from tests.fixtures.object_stores import S3Server
from tests.fixtures.services import (
    free_port,
    live_server,
    pg_admin_dsn,
    postgres_database,
    server_env,
)


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"database": {"url": "postgresql+asyncpg://db/streamcore"}}, "not SQLite"),
        ({"storage": {"backend": "s3"}}, "storage is s3"),
        ({"bus": {"backend": "kafka"}}, "the bus is Kafka"),
    ],
)
def test_distributed_settings_without_a_secret_are_refused(
    tmp_path: Path, values: dict[str, object], named: str
) -> None:
    settings = _settings(data_dir=tmp_path, **values)
    with pytest.raises(ConfigError, match="STREAMCORE_SECRET_KEY") as err:
        settings.resolved_secret()
    assert named in str(err.value)
    # Nothing generated: a node-local key is exactly what must not happen.
    assert not (tmp_path / "secret.key").exists()
    assert _settings(data_dir=tmp_path, secret_key="s" * 40, **values).resolved_secret()


def test_embedded_mode_generates_and_keeps_its_secret(tmp_path: Path) -> None:
    first = _settings(data_dir=tmp_path).resolved_secret()
    assert len(first) > 40
    assert _settings(data_dir=tmp_path).resolved_secret() == first


@pytest.mark.parametrize("command", [["serve", "--no-worker"], ["worker"]])
def test_distributed_node_without_secret_exits_with_what_to_set(
    tmp_path: Path, command: list[str]
) -> None:
    env = env_without_streamcore()
    env["STREAMCORE_DATA_DIR"] = str(tmp_path)
    env["STREAMCORE_BUS__BACKEND"] = "kafka"
    out = subprocess.run(
        [sys.executable, "-m", "streamcore", *command, *(["--port", str(free_port())]
         if command[0] == "serve" else [])],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 2, out.stdout + out.stderr
    text = " ".join(out.stderr.split())
    assert "STREAMCORE_SECRET_KEY" in text
    assert "the bus is Kafka" in text
    assert "Traceback" not in out.stderr


def test_serve_waits_for_a_database_that_comes_up_later(tmp_path: Path) -> None:
    """The database does not exist yet when serve starts; it logs, retries, and is
    healthy once the database appears."""
    name = f"streamcore_late_{uuid.uuid4().hex[:8]}"
    base = pg_admin_dsn().rsplit("/", 1)[0]
    port = free_port()
    env = env_without_streamcore() | {
        "STREAMCORE_DATA_DIR": str(tmp_path),
        "STREAMCORE_SECRET_KEY": "k" * 40,
        "STREAMCORE_DATABASE__URL": base.replace("postgresql://", "postgresql+asyncpg://")
        + f"/{name}",
    }
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamcore", "serve", "--no-worker", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while "startup.dependency_unavailable" not in log_path.read_text():
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        assert "database" in log_path.read_text()
        asyncio.run(_create_database(name))
        deadline = time.monotonic() + 40
        while True:
            assert proc.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(30)
        asyncio.run(_drop_database(name))


async def _create_database(name: str) -> None:
    conn = await asyncpg.connect(pg_admin_dsn())
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_database(name: str) -> None:
    conn = await asyncpg.connect(pg_admin_dsn())
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _migrate_concurrently(url: str, tmp_path: Path, count: int) -> list[subprocess.Popen[str]]:
    env = env_without_streamcore() | {
        "STREAMCORE_DATA_DIR": str(tmp_path),
        "STREAMCORE_SECRET_KEY": "k" * 40,
        "STREAMCORE_DATABASE__URL": url,
    }
    argv = [sys.executable, "-m", "streamcore", "migrate"]
    procs = [
        subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(count)
    ]
    for proc in procs:
        proc.wait(120)
    return procs


async def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        return await migrate.current_revision(engine)
    finally:
        await engine.dispose()


def test_four_concurrent_migrations_on_an_empty_database_all_succeed(tmp_path: Path) -> None:
    """Trials of `streamcore migrate` x4 at once, each on a new empty database: 3 in
    `make test` (CI time), STREAMCORE_TEST_MIGRATE_TRIALS=10 for the long form."""
    for trial in range(int(os.environ.get("STREAMCORE_TEST_MIGRATE_TRIALS", "3"))):
        with postgres_database() as url:
            procs = _migrate_concurrently(url, tmp_path, 4)
            failed = [p.stdout.read() for p in procs if p.returncode != 0 and p.stdout]
            assert failed == [], f"trial {trial}: {failed[0][-3000:]}"
            assert asyncio.run(_revision(url)) == migrate.head_revision()


def test_missing_bucket_is_named_on_health_and_in_the_startup_log(
    tmp_path: Path, s3_server: S3Server, secret: str
) -> None:
    bucket = f"missing-{uuid.uuid4().hex[:8]}"
    env = server_env(
        tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", secret,
        **{**s3_server.env(bucket), "STREAMCORE_STORAGE__S3_CREATE_BUCKET": "false"},
        STREAMCORE_STARTUP_TIMEOUT_SECONDS="1",
    )  # fmt: skip
    with live_server(tmp_path, env, healthy=False) as srv:
        health = httpx.get(f"{srv.base_url}/health", timeout=10)
        assert health.status_code == 503
        problem = health.json()["checks"]["storage"]
        assert problem == f"error: StorageUnavailable: bucket '{bucket}' does not exist"
        log = srv.log_path.read_text()
        assert "startup.dependency_unavailable" in log
        assert f"bucket '{bucket}' does not exist" in log
        assert "startup.degraded" in log
