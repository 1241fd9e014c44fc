"""The tests' PostgreSQL and Redis are their own: started in a scratch directory on a
free port, and gone when the process that started them dies, even by SIGKILL."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis

from tests.fixtures import datastores
from tests.fixtures.services import pg_admin_dsn

ROOT = Path(__file__).resolve().parents[2]


def _gone(pid: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split()[2] == "Z":
                    return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        time.sleep(0.1)
    return False


async def test_the_session_uses_its_own_servers(redis_url: str) -> None:
    dsn = pg_admin_dsn()
    if datastores.GIVEN:
        pytest.skip(f"{sorted(datastores.GIVEN)} name given servers (CI service containers)")
    pg = datastores._session["pg"]
    assert isinstance(pg, datastores.Postgres)
    assert dsn == pg.admin_dsn
    assert pg.port != 5432
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SHOW data_directory") == str(pg.data)
    finally:
        await conn.close()
    rds = datastores._session["redis"]
    assert isinstance(rds, datastores.Redis)
    assert redis_url == rds.url
    assert rds.port != 6379
    client = aioredis.from_url(redis_url)
    try:
        assert (await client.config_get("dir"))["dir"] == str(rds.root)
    finally:
        await client.aclose()


CHILD = """
import sys, time
from tests.fixtures.datastores import start_postgres, start_redis
pg, rds = start_postgres(), start_redis()
print(pg.process.pid, rds.process.pid, pg.root, rds.root, flush=True)
time.sleep(600)
"""


def test_servers_die_with_the_process_that_started_them() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMCORE_")}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    pg_pid, redis_pid, pg_root, redis_root = child.stdout.readline().split()
    try:
        assert not _gone(int(pg_pid), timeout=0.5)
        assert not _gone(int(redis_pid), timeout=0.5)
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert _gone(int(pg_pid)), "postgres outlived the test process"
        assert _gone(int(redis_pid)), "redis-server outlived the test process"
    finally:
        for pid in (pg_pid, redis_pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        subprocess.run(["rm", "-rf", pg_root, redis_root], check=False)
