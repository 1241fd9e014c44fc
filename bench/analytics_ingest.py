"""Analytics: beacon ingestion and `GET /analytics` over 90 days.

    .venv/bin/python -m bench.analytics_ingest [--seconds 10] [--batch 20]
        [--concurrency 16] [--events 1000000] [--videos 50] [--n 50]

1. Ingestion on one API process in embedded mode: a real `streamcore serve` (Granian,
   SQLite, the embedded worker folding rollups); wrk (one thread, `--concurrency`
   connections) posts distinct beacon batches of `--batch` events for `--seconds`
   (views of 20 events each, text/plain with `?token=`, as sendBeacon does). Prints
   events/s and the request
   latency p50/p99 (goal: >= 5,000 events/s at p99 < 50 ms), the time until the
   rollup shows every view, and ratios to references measured in the same run: the
   same requests answered at once by the server (its floor on this machine), and a
   plain `executemany` INSERT of as many rows into a SQLite table of the same shape.
2. `GET /analytics` on PostgreSQL (the app in process): `--events` raw events of
   `--videos` videos over 90 days made with INSERT ... SELECT generate_series (setup:
   views of 20 events, one in ten with a 10 s stall), folded by the real rollup
   (its events/s printed), then p50/p99 of `GET /analytics` for the project (90 days,
   interval=day; and group_by=video) against the reference: one plain SQL aggregate
   over the raw table for the same range (goal: p99 < 200 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from tests.fixtures.services import live_server, postgres_database, server_env

from streamcore.analytics import service
from streamcore.app import create_app
from streamcore.auth import service as auth
from streamcore.config import Settings
from streamcore.db.base import utcnow
from streamcore.models import AssetSource
from streamcore.organizations import service as organizations
from streamcore.projects import service as projects
from streamcore.security.stream_tokens import TokenCodec
from streamcore.videos import layout
from streamcore.videos import service as videos

SECRET = "bench-analytics-secret"
EVENTS_PER_VIEW = 20
INGEST_GOAL = 5000.0
INGEST_P99_MS = 50.0
REPORT_P99_MS = 200.0


def pct(samples: list[float], q: int) -> float:
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def view_batches(batch: int, count: int) -> list[list[dict[str, Any]]]:
    """count batches of batch events, views of EVENTS_PER_VIEW events cut into them."""
    events: list[dict[str, Any]] = []
    now = int(time.time() * 1000) - 600_000
    while len(events) < batch * count:
        view, viewer = secrets.token_hex(8), secrets.token_hex(6)
        t = now
        for e in range(EVENTS_PER_VIEW):
            kind = {0: "view_start", 1: "first_frame", EVENTS_PER_VIEW - 1: "view_end"}
            t += 700 if e == 1 else 10_000 if e else 0
            events.append(
                {"type": kind.get(e, "heartbeat"), "view_id": view, "viewer_id": viewer,
                 "at": t, "player_time": max(0, e - 1) * 10.0, "rendition": "720p",
                 "bitrate": 2_500_000}
            )  # fmt: skip
    return [events[i * batch : (i + 1) * batch] for i in range(count)]


Batch = tuple[str, list[dict[str, Any]]]


def with_tokens(tokens: list[str], batches: list[list[dict[str, Any]]]) -> list[Batch]:
    """Each view's batches under one token (a view is of one video)."""
    out = []
    for events in batches:
        view = events[0]["view_id"]
        out.append((tokens[int(view, 16) % len(tokens)], events))
    return out


def views_of(batches: list[Batch]) -> int:
    return len({(t, e["view_id"]) for t, events in batches for e in events})


def reference_insert(path: Path, rows: int) -> float:
    """Rows/s of a plain executemany INSERT (one transaction) into the same shape."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(
        "CREATE TABLE e (id INTEGER PRIMARY KEY, video_id TEXT, view_id TEXT, viewer_hash "
        "INTEGER, type TEXT, at INTEGER, player_time REAL, rendition TEXT, bitrate INTEGER, "
        "duration_ms INTEGER, error_code TEXT, received_at TEXT)"
    )
    db.execute("CREATE INDEX e_v ON e (video_id, view_id)")
    data = [("v" * 32, f"view{i // 20}", i, "heartbeat", i, 1.0, "720p", 1, None, None, "t")
            for i in range(rows)]  # fmt: skip
    started = time.perf_counter()
    with db:
        db.executemany("INSERT INTO e VALUES (NULL,?,?,?,?,?,?,?,?,?,?,?)", data)
    elapsed = time.perf_counter() - started
    db.close()
    return rows / elapsed


LUA = """
local lines = {}
for line in io.lines("%s") do
  local tab = line:find("\t")
  lines[#lines + 1] = {line:sub(1, tab - 1), line:sub(tab + 1)}
end
local i = 0
local headers = {["Content-Type"] = "text/plain;charset=UTF-8"}
request = function()
  i = i %% #lines + 1
  return wrk.format("POST", lines[i][1], headers, lines[i][2])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "seconds": %%f, "p50_ms": %%f, "p99_ms": %%f, ' ..
    '"errors": %%d, "bad_status": %%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def wrk(base: str, lines: Path, seconds: float, connections: int) -> dict[str, float]:
    """wrk (C, one thread: a light load generator beside a 2-core server) posting the
    batches of lines in turn."""
    script = lines.with_suffix(".lua")
    script.write_text(LUA % lines)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
         "-s", str(script), base],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def write_lines(path: Path, batches: list[Batch], prefix: str) -> Path:
    path.write_text(
        "".join(f"{prefix}?token={t}\t{json.dumps({'events': e})}\n" for t, e in batches)
    )
    return path


def ingest(tmp: Path, args: argparse.Namespace) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed; `make setup` installs it (Debian wrk)")
    env = server_env(
        tmp,
        f"sqlite+aiosqlite:///{tmp / 'db.sqlite'}",
        SECRET,
        STREAMCORE_LOG_LEVEL="WARNING",
        STREAMCORE_ANALYTICS__TOKEN_LIMIT="100000000",
        STREAMCORE_ANALYTICS__ADDRESS_LIMIT="100000000",
        STREAMCORE_ANALYTICS__ROLLUP_SECONDS="1",
    )
    with live_server(tmp, env) as srv:
        with httpx.Client(base_url=srv.base_url, headers=srv.auth_headers, timeout=60) as c:
            project = c.post("/projects", json={"name": "bench"}).json()["id"]
            body = {"project_id": project, "filename": "v.mp4", "size": 1000}
            ids = [c.post("/uploads/presign", json=body).json()["asset_id"] for _ in range(4)]
        codec = TokenCodec.from_secret(SECRET)
        tokens = [codec.issue(v, layout.MASTER_PATH, 3600) + ".m3u8" for v in ids]
        batches = with_tokens(tokens, view_batches(args.batch, args.batches))
        lines = write_lines(tmp / "beacons.txt", batches, "/analytics/events")
        warm = wrk(srv.base_url, lines, 1, args.concurrency)
        sent_at = time.monotonic()
        run = wrk(srv.base_url, lines, args.seconds, args.concurrency)
        # Each wrk run posts the lines from the first on.
        sent = int(max(warm["requests"], run["requests"]))
        views = views_of(batches[:sent])
        rolled = wait_rolled(srv.base_url, srv.auth_headers, project, views, sent_at)
        # The floor of this server, load tool and machine in this run: the same
        # requests answered at once (405 from the /stream/ fast path, body unread).
        floor_lines = write_lines(tmp / "floor.txt", batches[:2000], "/stream/x")
        floor = wrk(srv.base_url, floor_lines, args.seconds, args.concurrency)
    req_s = run["requests"] / run["seconds"]
    rate = req_s * args.batch
    floor_s = floor["requests"] / floor["seconds"]
    ref = reference_insert(tmp / "ref.sqlite", int(run["requests"]) * args.batch)
    print(f"ingest, one process, embedded: batches of {args.batch} events, wrk -t1 "
          f"-c{args.concurrency} for {args.seconds:.0f} s ({run['errors']:.0f} errors, "
          f"{run['bad_status']:.0f} non-2xx)")  # fmt: skip
    print(f"  {rate:,.0f} events/s ({req_s:,.0f} req/s), "
          f"latency p50 {run['p50_ms']:.1f} ms p99 {run['p99_ms']:.1f} ms")  # fmt: skip
    print(f"  goal >= {INGEST_GOAL:,.0f} events/s at p99 < {INGEST_P99_MS:.0f} ms: "
          f"{rate / INGEST_GOAL:.2f}x the rate, "
          f"p99/goal {run['p99_ms'] / INGEST_P99_MS:.2f}x")  # fmt: skip
    print(f"  rollup showed all {views:,} views {rolled:.1f} s after the first batch")
    print(f"  reference, same requests answered 405 at once: {floor_s:,.0f} req/s, "
          f"p50 {floor['p50_ms']:.1f} ms p99 {floor['p99_ms']:.1f} ms; "
          f"ingest/floor = {req_s / floor_s:.2f}x")  # fmt: skip
    print(f"  reference plain executemany INSERT: {ref:,.0f} rows/s; "
          f"ingest/reference = {rate / ref:.3f}x")  # fmt: skip


def wait_rolled(
    base_url: str, headers: dict[str, str], project: str, views: int, since: float
) -> float:
    deadline = time.monotonic() + 300
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as c:
        while time.monotonic() < deadline:
            got = c.get("/analytics", params={"project_id": project}).json()["totals"]["views"]
            if got >= views:
                return time.monotonic() - since
            time.sleep(0.5)
    raise RuntimeError(f"rollup shows {got} of {views} views after 300 s")


GENERATE = """
INSERT INTO analytics_events (video_id, view_id, viewer_hash, type, at, player_time,
                              rendition, bitrate, duration_ms, received_at)
SELECT (CAST(:vids AS text[]))[1 + v % :nv], 'view' || v, (v * 7919) % :viewers,
       CASE WHEN e = 0 THEN 'view_start' WHEN e = 1 THEN 'first_frame'
            WHEN e = :k - 1 THEN 'view_end'
            WHEN v % 10 = 0 AND e = 5 THEN 'rebuffer_start'
            WHEN v % 10 = 0 AND e = 6 THEN 'rebuffer_end' ELSE 'heartbeat' END,
       :t0 + v * :step + CASE WHEN e = 0 THEN 0 ELSE 200 + (v * 37) % 2000 + (e - 1) * 10000 END,
       GREATEST(e - 1, 0) * 10.0, CASE WHEN v % 3 = 0 THEN '1080p' ELSE '720p' END,
       2500000, NULL, now()
FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) v,
     generate_series(0, :k - 1) e
"""
RAW_REFERENCE = """
SELECT count(*) FILTER (WHERE type = 'view_start'), count(DISTINCT viewer_hash),
       count(*) FILTER (WHERE type = 'rebuffer_start'), count(*) FILTER (WHERE type = 'error')
FROM analytics_events e JOIN assets a ON a.id = e.video_id
WHERE a.project_id = :p AND e.at >= :lo
"""


async def reports(tmp: Path, args: argparse.Namespace) -> None:
    with postgres_database() as url:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=tmp / "pg",
            secret_key=SECRET,
            log_level="WARNING",
            database={"url": url},  # type: ignore[arg-type]
        )
        app = create_app(settings, run_worker=False)
        async with app.router.lifespan_context(app):
            infra = app.state.infra
            async with infra.transaction() as s:
                user = await auth.create_user(s, infra, "bench@analytics.example", "bench pw")
                org = await organizations.create_organization(s, "bench", user.id)
                project = (await projects.create_project(s, "bench", org.id)).id
                vids = [
                    (await videos.create_asset(s, project_id=project, source=AssetSource.upload)).id
                    for _ in range(args.videos)
                ]
            await generate(infra, project, vids, args.events)
            headers = {"Authorization": f"Bearer {infra.access_tokens.issue(user.id)}"}
            await measure_reports(app, infra, headers, project, args.n)


async def generate(infra: Any, project: str, vids: list[str], events: int) -> None:
    views = max(1, events // EVENTS_PER_VIEW)
    t0 = int((utcnow() - timedelta(days=90)).timestamp() * 1000)
    step = max(1, (90 * 86_400_000 - 600_000) // views)
    started = time.perf_counter()
    chunk = 50_000
    for first in range(0, views, chunk):
        last = min(views, first + chunk) - 1
        async with infra.transaction() as s:
            await s.execute(text(GENERATE), {
                "vids": vids, "nv": len(vids), "viewers": max(1, views // 3), "k": EVENTS_PER_VIEW,
                "t0": t0, "step": step, "first": first, "last": last,
            })  # fmt: skip
    async with infra.transaction() as s:
        await s.execute(text("INSERT INTO analytics_pending SELECT DISTINCT video_id, view_id "
                             "FROM analytics_events"))  # fmt: skip
        await s.execute(text("ANALYZE"))
    made = time.perf_counter() - started
    started = time.perf_counter()
    folded = await service.roll_up_all(infra)
    rolled = time.perf_counter() - started
    async with infra.transaction() as s:
        await s.execute(text("ANALYZE"))
    print(f"reports, PostgreSQL: {views * EVENTS_PER_VIEW:,} raw events ({views:,} views, "
          f"{len(vids)} videos, 90 days) generated in {made:.1f} s")  # fmt: skip
    print(f"  rollup folded {folded:,} views in {rolled:.1f} s "
          f"({views * EVENTS_PER_VIEW / rolled:,.0f} events/s)")  # fmt: skip


async def measure_reports(
    app: Any, infra: Any, headers: dict[str, str], project: str, n: int
) -> None:
    lo = (utcnow() - timedelta(days=90)).replace(minute=0, second=0, microsecond=0)
    transport = httpx.ASGITransport(app=app)
    cases = {
        "interval=day": {"interval": "day"},
        "group_by=video": {"interval": "day", "group_by": "video"},
    }
    async with httpx.AsyncClient(transport=transport, base_url="http://b", headers=headers) as c:
        for label, extra in cases.items():
            params = {"project_id": project, "from": lo.isoformat(), **extra}
            samples = []
            for _ in range(n):
                started = time.perf_counter()
                resp = await c.get("/analytics", params=params)
                samples.append(time.perf_counter() - started)
                assert resp.status_code == 200, resp.text
            totals = resp.json()["totals"]
            p50, p99 = pct(samples, 50) * 1000, pct(samples, 99) * 1000
            print(f"  GET /analytics 90 days {label}: p50 {p50:.1f} ms p99 {p99:.1f} ms "
                  f"(views {totals['views']:,}, viewers {totals['unique_viewers']:,}, "
                  f"p99/goal {p99 / REPORT_P99_MS:.2f}x)")  # fmt: skip
    ref = []
    for _ in range(max(3, n // 10)):
        async with infra.transaction() as s:
            started = time.perf_counter()
            await s.execute(text(RAW_REFERENCE), {"p": project, "lo": int(lo.timestamp() * 1000)})
            ref.append(time.perf_counter() - started)
    ref_p50 = pct(ref, 50) * 1000
    print(f"  reference plain SQL aggregate over the raw table: p50 {ref_p50:.1f} ms; "
          f"raw/rollups = {ref_p50 / (pct(samples, 50) * 1000):.1f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=20_000, help="distinct batches")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--videos", type=int, default=50)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-reports", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-analytics-") as d:
        tmp = Path(d)
        if not args.skip_ingest:
            ingest(tmp / "ingest", args)
        if not args.skip_reports:
            asyncio.run(reports(tmp, args))


if __name__ == "__main__":
    main()
