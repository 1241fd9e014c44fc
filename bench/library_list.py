"""`GET /videos` latency on PostgreSQL with N videos in one project: the whole app in
process (lifespan run), an API key as caller, pages of 100.

    .venv/bin/python -m bench.library_list [--videos 100000] [--n 200]
        [--admin-url postgresql://postgres@host:5432/postgres]

Creates a throwaway database, fills it with one bulk insert (setup, not the product
path), ANALYZEs, then prints p50/p99 of: the first page, pages deep in a cursor walk,
a status filter, an external_id lookup and a title/filename text match.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import insert, text

from streamcore.app import create_app
from streamcore.auth import service as auth
from streamcore.auth.principal import Principal, PrincipalKind, Scope
from streamcore.config import Settings
from streamcore.db.base import utcnow
from streamcore.models import Asset, AssetSource, AssetStatus, TranscriptStatus
from streamcore.projects import service as projects

STATUSES = [AssetStatus.ready] * 8 + [AssetStatus.failed, AssetStatus.deleted]


def pct(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def rows(project_id: str, first: int, count: int) -> list[dict[str, Any]]:
    start = utcnow() - timedelta(days=30)
    out = []
    for i in range(first, first + count):
        asset_id = uuid.uuid4().hex
        out.append(
            {
                "id": asset_id, "project_id": project_id, "source": AssetSource.upload,
                "status": STATUSES[i % len(STATUSES)], "filename": f"clip-{i}.mp4",
                "content_type": "video/mp4", "source_key": f"assets/{asset_id}/source",
                "renditions": [], "derivatives": {}, "progress": 1.0,
                "transcript_status": TranscriptStatus.none, "user_metadata": {},
                "title": f"Episode {i}", "external_id": f"ext-{i}",
                "created_at": start + timedelta(seconds=i * 20), "updated_at": start,
            }
        )  # fmt: skip
    return out


async def fill(settings: Settings, videos: int) -> tuple[str, str]:
    app = create_app(settings, run_worker=False)
    async with app.router.lifespan_context(app):
        infra = app.state.infra
        async with infra.transaction() as s:
            project = await projects.create_project(s, "bench")
            user = await auth.create_user(s, infra, "bench@example.com", "bench password")
            owner = Principal(PrincipalKind.user, user.id, is_superadmin=True)
            created = await auth.create_api_key(
                s, owner, project.id, name="b", scopes=frozenset({Scope.read}), expires_at=None
            )
        for i in range(0, videos, 5000):
            async with infra.transaction() as s:
                await s.execute(insert(Asset), rows(project.id, i, min(5000, videos - i)))
        async with infra.engine.connect() as conn:
            await conn.execute(text("ANALYZE assets"))
    return project.id, created.secret


async def measure(settings: Settings, secret: str, n: int) -> dict[str, list[float]]:
    app = create_app(settings, run_worker=False)
    out: dict[str, list[float]] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"X-API-Key": secret}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers
        ) as c:

            async def timed(name: str, params: dict[str, Any]) -> dict[str, Any]:
                started = time.perf_counter()
                resp = await c.get("/videos", params=params)
                out.setdefault(name, []).append((time.perf_counter() - started) * 1000)
                assert resp.status_code == 200, resp.text
                body: dict[str, Any] = resp.json()
                return body

            for _ in range(10):  # warm-up
                await timed("warmup", {"limit": 100})
            cursor = None
            for _ in range(n):
                await timed("first page (100)", {"limit": 100})
                page = await timed("cursor walk page (100)", {"limit": 100, "cursor": cursor}
                                   if cursor else {"limit": 100})  # fmt: skip
                cursor = page["next_cursor"]
                await timed("status=failed (100)", {"limit": 100, "status": "failed"})
                await timed("external_id", {"external_id": f"ext-{n * 7}"})
            for _ in range(max(10, n // 10)):
                await timed("q=text match (25)", {"q": "episode 9999"})
    out.pop("warmup")
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--videos", type=int, default=100_000)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument(
        "--admin-url",
        default=None,
        help="an admin DSN (default: STREAMCORE_TEST_PG_DSN, or a throwaway PostgreSQL)",
    )
    args = parser.parse_args()
    if args.admin_url is None:
        from tests.fixtures.datastores import session_pg_dsn

        args.admin_url = session_pg_dsn()
    name = f"streamcore_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(args.admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = args.admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                data_dir=Path(tmp),
                secret_key="bench",
                # Request logs off: they would be most of what is measured.
                log_level="WARNING",
                auth={"api_key_limit": 1_000_000},  # type: ignore[arg-type]
                database={"url": f"{base}/{name}"},  # type: ignore[arg-type]
            )
            started = time.perf_counter()
            _, secret = await fill(settings, args.videos)
            print(f"{args.videos} videos inserted in {time.perf_counter() - started:.1f}s")
            results = await measure(settings, secret, args.n)
        for what, samples in results.items():
            print(f"{what:28s} n={len(samples):4d}  p50 {pct(samples, 50):7.1f} ms"
                  f"  p99 {pct(samples, 99):7.1f} ms")  # fmt: skip
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
