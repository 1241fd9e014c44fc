"""One schemathesis run against a live `streamcore serve`: every operation of its
OpenAPI document, as a user and as a super-admin, every check schemathesis has. Shared
by the short seeded run in the test suite and the long run in bench/contract_fuzz.py.

Counts come from schemathesis' NDJSON event stream: requests sent, server errors (5xx)
and failures of each check, so both runs can print exactly what they measured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.fixtures.services import LiveServer

# ignored_auth and object_level_authorization need a second identity of their own
# configured; the access table (tests/auth/test_access_matrix.py) covers them instead.
EXCLUDED_CHECKS = "ignored_auth,object_level_authorization"
# A server-sent event stream stays open until its video is final: a fuzzer would wait
# for the request timeout on every case. Its answers (auth, 404, the stream's own
# events) are tested in tests/auth/test_access_matrix.py and the pipeline tests.
STREAMING_PATHS = ("/videos/{video_id}/events",)
CONFIG = Path(__file__).with_name("schemathesis.toml")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RunResult:
    who: str
    returncode: int
    requests: int = 0
    server_errors: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    # Errors inside schemathesis itself (not answers of ours), with their messages.
    tool_errors: list[str] = field(default_factory=list)
    output: str = ""

    @property
    def schema_violations(self) -> int:
        return sum(self.failures.values())

    def line(self) -> str:
        checks = ", ".join(f"{k}={v}" for k, v in sorted(self.failures.items())) or "none"
        return (
            f"{self.who}: requests={self.requests} server_errors={self.server_errors} "
            f"check_failures={self.schema_violations} ({checks}) "
            f"tool_errors={len(self.tool_errors)} exit={self.returncode}"
        )


def _count(ndjson: Path, result: RunResult) -> None:
    for raw in ndjson.read_text().splitlines():
        event = json.loads(raw)
        for name, body in event.items():
            if name == "NonFatalError":
                value = body.get("value", {})
                result.tool_errors.append(f"{body.get('label')}: {value.get('message', '')}"[:300])
            if name != "ScenarioFinished":
                continue
            for interaction in body.get("recorder", {}).get("interactions", {}).values():
                result.requests += 1
                response = interaction.get("response") or {}
                if int(response.get("status_code", 0)) >= 500:
                    result.server_errors += 1
            for checks in body.get("recorder", {}).get("checks", {}).values():
                for check in checks:
                    if str(check.get("status")).lower() == "failure":
                        result.failures[check["name"]] += 1


def run(
    server: LiveServer,
    who: str,
    token: str,
    workdir: Path,
    *,
    max_examples: int,
    seed: int,
    phases: str = "examples,coverage,fuzzing",
    workers: int = 2,
) -> RunResult:
    report = workdir / f"schemathesis-{who}.ndjson"
    argv = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG),
        "run", f"{server.base_url}/openapi.json",
        "--checks", "all", "--exclude-checks", EXCLUDED_CHECKS,
        "--max-examples", str(max_examples), "--seed", str(seed),
        "--phases", phases, "--workers", str(workers), "--no-shrink",
        "--generation-database", "none", "--request-timeout", "30",
        "--suppress-health-check", "all", "--continue-on-failure", "--no-color",
        "--report", "ndjson", "--report-ndjson-path", str(report),
        "-H", f"Authorization: Bearer {token}",
        *(arg for path in STREAMING_PATHS for arg in ("--exclude-path", path)),
    ]  # fmt: skip
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.contract.st_hooks",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=workdir, env=env, timeout=3600)
    result = RunResult(who, proc.returncode, output=proc.stdout + proc.stderr)
    if report.exists():
        _count(report, result)
    return result
