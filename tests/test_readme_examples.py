"""Every curl example of the README runs as written against a live server (only the
host is the test server's instead of localhost:8000), credentials included, in the
README's order, in one shell so the variables carry over."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.services import LiveServer, live_server, server_env

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)

pytestmark = pytest.mark.slow


def curl_examples() -> list[str]:
    blocks = BLOCK.findall((ROOT / "README.md").read_text())
    return [b for b in blocks if "curl " in b and "localhost:8000" in b]


def test_the_readme_has_the_examples_this_test_runs() -> None:
    joined = "\n".join(curl_examples())
    for route in ("/auth/login", "/projects", "/upload", "/videos/$V", "/sessions",
                  "/uploads/presign", "/media/transcribe", "/events"):  # fmt: skip
        assert route in joined, route


@pytest.fixture(scope="module")
def readme_server(tmp_path_factory: pytest.TempPathFactory, secret: str) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("readme")
    env = server_env(data_dir, f"sqlite+aiosqlite:///{data_dir / 'streamcore.db'}", secret)
    with live_server(data_dir, env) as srv:
        yield srv


def _wait_ready(server: LiveServer, shell_vars: dict[str, str]) -> None:
    """Between blocks, as a reader would: the transcription example needs a ready video."""
    deadline = time.monotonic() + 180
    headers = {"x-api-key": shell_vars["K"]}
    while time.monotonic() < deadline:
        status = httpx.get(f"{server.base_url}/videos/{shell_vars['V']}", headers=headers).json()
        if status["status"] in ("ready", "failed"):
            assert status["status"] == "ready", status
            return
        time.sleep(0.5)
    raise AssertionError("the README's upload did not become ready")


def test_every_curl_example_runs_as_written(
    readme_server: LiveServer, tmp_path: Path, media: Path
) -> None:
    shutil.copy(media / "short360.mp4", tmp_path / "movie.mp4")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMCORE_")}
    env |= {k: v for k, v in readme_server.env.items() if k.startswith("STREAMCORE_")}
    host = readme_server.base_url.removeprefix("http://")
    state = tmp_path / "vars.sh"
    state.write_text("")
    for number, block in enumerate(curl_examples()):
        script = (
            "set -euo pipefail\n. ./vars.sh\n"
            + block.replace("localhost:8000", host)
            + '\nfor v in T P K V S R; do [ -z "${!v-}" ] || declare -p "$v"; done > vars.sh\n'
        )
        out = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
            timeout=240,
        )  # fmt: skip
        shown = f"block {number}:\n{block}\nstdout:\n{out.stdout}\nstderr:\n{out.stderr}"
        assert out.returncode == 0, shown
        # curl -f with pipefail already fails on a 4xx; an error body must not pass either.
        assert "Unauthorized" not in out.stdout, shown
        assert not re.search(r'"error": *"', out.stdout), shown
        values = dict(re.findall(r'^declare -\S* (\w+)="(.*)"$', state.read_text(), re.M))
        if number == 0:
            _wait_ready(readme_server, values)
