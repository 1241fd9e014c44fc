"""Every benchmark under bench/ runs at a tiny size in the test suite, so none can
silently break again: each must complete and print its ratio against its reference.
The figures of these runs mean nothing (too small); only that they run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.services import pg_admin_dsn

ROOT = Path(__file__).resolve().parents[1]
# socketio_reference is the reference server of signaling_latency, not a benchmark;
# chunk_model is the model bench.chunked feeds with its measurements.
HELPERS = {"__init__", "socketio_reference", "chunk_model"}
BENCHES = sorted(p.stem for p in (ROOT / "bench").glob("*.py") if p.stem not in HELPERS)

# Tiny sizes, and what each prints as its ratio against the reference of the same run.
SMOKE: dict[str, tuple[list[str], str]] = {
    "analytics_ingest": (
        [
            "--seconds",
            "1",
            "--batches",
            "300",
            "--concurrency",
            "2",
            "--events",
            "4000",
            "--videos",
            "2",
            "--n",
            "3",
        ],
        r"ingest/floor = \d+\.\d\dx(.|\n)*raw/rollups = \d+\.\dx",
    ),
    "contract_fuzz": (
        ["--requests", "1", "--max-examples", "1", "--max-runs", "1", "--phases", "fuzzing"],
        r"total: runs=2 requests=\d+ server_errors=0 check_failures=0",
    ),
    "chunked": (
        [
            "--seconds",
            "16",
            "--size",
            "320x240",
            "--chunk",
            "4",
            "--preset",
            "ultrafast",
            "--model-size",
            "320x240",
        ],
        r"c/b = \d+\.\d+",
    ),
    "bus_throughput": (["--jobs", "20", "--consumers", "1"], r"\d+\.\d+x the db bus"),
    "ladder": (
        ["--seconds", "2", "--size", "640x360", "--preset", "ultrafast", "--runs", "1"],
        r"ours/plain = \d+\.\d+x wall(.|\n)*worst rung [-+]\d+\.\d\d dB",
    ),
    "library_list": (["--videos", "300", "--n", "3"], r"p50 +\d+\.\d ms"),
    "login_latency": (["--n", "3"], r"ratio login/verify p50: \d+\.\d+x"),
    "pipeline": (["--seconds", "4", "--size", "640x360", "--preset", "ultrafast"], r"b/a = \d"),
    "serve": (["--smoke"], r"segment, one process: [\d,]+ req/s \(\d+\.\d\d x nginx\)"),
    "signaling_latency": (
        ["--clients", "6", "--rooms", "2", "--rounds", "1"],
        r"ratios streamcore/reference: p50 \d",
    ),
    "transcribe_rtf": (["--minutes", "0.25", "--window", "10"], r"realtime factor +\d+(\.\d+)?x"),
    "upload_throughput": (["--size-mb", "8"], r"\d\.\d\d x dd"),
    "webhook_latency": (["--videos", "10", "--mode", "embedded"], r"p99/goal \d+\.\d+x"),
}


def test_every_benchmark_has_a_smoke_run() -> None:
    assert sorted(SMOKE) == BENCHES


@pytest.mark.parametrize("bench", BENCHES)
def test_benchmark_smoke_run(bench: str, tmp_path: Path, redis_url: str) -> None:
    args, ratio = SMOKE[bench]
    # No streamcore settings leak in; the tests' own PostgreSQL and Redis do.
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMCORE_")}
    env |= {"STREAMCORE_TEST_PG_DSN": pg_admin_dsn(), "STREAMCORE_TEST_REDIS_URL": redis_url}
    out = subprocess.run(
        [sys.executable, "-m", f"bench.{bench}", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert re.search(ratio, out.stdout), out.stdout[-3000:]
