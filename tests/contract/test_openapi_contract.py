"""The OpenAPI document tells the truth: a short, seeded schemathesis run on every
operation of a real `streamcore serve`, as a user and as a super-admin, with every
check, finds no server error and no response that breaks the documented contract.
(bench/contract_fuzz.py is the long run.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.contract.schemathesis_run import run
from tests.fixtures.services import LiveServer, live_server, postgres_database, server_env

SEED = 20261201
# Within the suite's time budget: examples and fuzzing of every operation, as each
# caller. The long run (bench/contract_fuzz.py) adds schemathesis' coverage phase
# (boundary and negative cases of every parameter).
PLANS = {"user": ("examples,fuzzing", 10), "superadmin": ("fuzzing", 4)}


def contract_env(data_dir: Path, database_url: str, secret: str) -> dict[str, str]:
    """Limits out of the way of a fuzzer that logs in thousands of times; a worker
    that picks up what it uploads (one at a time)."""
    return server_env(
        data_dir,
        database_url,
        secret,
        STREAMCORE_AUTH__LOGIN_IP_LIMIT="1000000",
        STREAMCORE_AUTH__LOGIN_PAIR_LIMIT="1000000",
        STREAMCORE_AUTH__REGISTRATION_ENABLED="true",
        STREAMCORE_WORKER__CONCURRENCY="1",
        STREAMCORE_UPLOAD__MAX_BYTES=str(64 * 1024 * 1024),
    )


@pytest.fixture(scope="module")
def contract_server(tmp_path_factory: pytest.TempPathFactory, secret: str) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("contract")
    with postgres_database() as db, live_server(data, contract_env(data, db, secret)) as srv:
        yield srv


def test_every_status_has_a_documented_body(contract_server: LiveServer) -> None:
    doc = httpx.get(f"{contract_server.base_url}/openapi.json", timeout=30).json()
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if (path, status) == ("/stream/{token}", "416"):
                    # A 416 says it all in Content-Range (RFC 9110 15.5.17): no body,
                    # and none is documented.
                    assert "content" not in response, response
                    continue
                if status >= "400":
                    schema = response["content"]["application/json"]["schema"]
                    assert schema["$ref"].endswith(("ErrorRead", "ValidationErrorRead")), (
                        method,
                        path,
                        status,
                    )
    tus = doc["paths"]["/uploads/tus/{upload_id}"]
    assert {"412", "404", "410", "409", "460"} <= set(tus["patch"]["responses"])
    assert "Upload-Offset" in tus["patch"]["responses"]["204"]["headers"]


@pytest.mark.parametrize("who", ["user", "superadmin"])
def test_schemathesis_finds_nothing(contract_server: LiveServer, who: str, tmp_path: Path) -> None:
    token = contract_server.token if who == "user" else contract_server.admin_token
    phases, examples = PLANS[who]
    result = run(
        contract_server, who, token, tmp_path, max_examples=examples, seed=SEED, phases=phases
    )
    print(result.line())
    assert result.requests > 100, result.output[-3000:]
    assert result.server_errors == 0, result.output[-6000:]
    assert result.schema_violations == 0, result.output[-6000:]
    assert result.returncode == 0, result.output[-6000:]
