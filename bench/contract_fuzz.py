"""The long contract run: schemathesis against a real `streamcore serve` on
PostgreSQL, as a user and as a super-admin, seed after seed until at least
--requests generated requests were sent. Prints the counts of each run and the totals:
requests, server errors (5xx) and check failures (schema violations and the rest).

    .venv/bin/python -m bench.contract_fuzz [--requests 30000] [--max-examples 60]

It measures no ratio: its reference is the schema itself, and the figures that count
are the two zeros (server errors, check failures).
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from pathlib import Path

from tests.contract.schemathesis_run import RunResult, run
from tests.contract.test_openapi_contract import contract_env
from tests.fixtures.services import live_server, postgres_database


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=30_000)
    parser.add_argument("--max-examples", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-runs", type=int, default=40)
    parser.add_argument("--phases", default="examples,coverage,fuzzing")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="contract-fuzz-"))
    results: list[RunResult] = []
    started = time.monotonic()
    with postgres_database() as db:
        env = contract_env(data, db, secrets.token_urlsafe(16))
        with live_server(data, env) as srv:
            seed = args.seed
            while sum(r.requests for r in results) < args.requests and len(results) < args.max_runs:
                for who, token in (("user", srv.token), ("superadmin", srv.admin_token)):
                    work = data / f"run-{seed}-{who}"
                    work.mkdir()
                    result = run(
                        srv,
                        who,
                        token,
                        work,
                        max_examples=args.max_examples,
                        seed=seed,
                        phases=args.phases,
                    )
                    results.append(result)
                    print(f"seed={seed} {result.line()}", flush=True)
                seed += 1
    requests = sum(r.requests for r in results)
    errors = sum(r.server_errors for r in results)
    violations = sum(r.schema_violations for r in results)
    minutes = (time.monotonic() - started) / 60
    print(
        f"total: runs={len(results)} requests={requests} server_errors={errors} "
        f"check_failures={violations} minutes={minutes:.1f}"
    )
    return 0 if errors == 0 and violations == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
