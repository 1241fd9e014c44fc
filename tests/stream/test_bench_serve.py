"""bench/serve.py keeps working: its smoke mode runs every row (nginx, Granian, the
nginx mode) for a second each with wrk, and every request it made succeeded."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_serve_benchmark_smoke() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMCORE_")}
    out = subprocess.run(
        [sys.executable, "-m", "bench.serve", "--smoke"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    rows = [ln for ln in out.stdout.splitlines() if re.match(r"\| (nginx|streamcore)", ln)]
    assert len(rows) == 6, out.stdout  # reference, 3 segment rows, 2 playlists
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert float(cells[1].replace(",", "")) > 0, row
        assert cells[-1] == "0", row  # no errors, no non-2xx answers
    goals = (
        "segment, one process",
        "segment, nginx mode (TCP)",
        "segment, nginx mode (unix socket)",
        "master playlist",
        "variant playlist",
    )
    for goal in goals:
        assert re.search(rf"^{re.escape(goal)}: [\d,]+ req/s", out.stdout, re.M), out.stdout
