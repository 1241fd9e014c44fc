"""deploy/: the compose file validates with docker-compose and has healthchecks,
conditions, restart policies and one image; the Dockerfile builds a non-root image
that can write its data; .env.example lists every setting; CI runs `make test`."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from streamcore.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
STREAMCORE_COMMANDS = {"serve", "worker", "migrate"}


def compose_config(tmp_path: Path) -> dict[str, Any]:
    """`docker-compose config` as a user runs it: with the env file made from the example."""
    copy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy)
    shutil.copy(copy / "streamcore.env.example", copy / "streamcore.env")
    out = subprocess.run(
        ["docker-compose", "-f", str(copy / "docker-compose.yml"), "config"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    config: dict[str, Any] = yaml.safe_load(out.stdout)
    return config


def test_compose_validates_and_every_service_heals(tmp_path: Path) -> None:
    services = compose_config(tmp_path)["services"]
    ours = {n: s for n, s in services.items() if s.get("image") == "streamcore:local"}
    assert {"migrate", "api-1", "api-2", "worker"} <= set(ours)
    # One image, built once.
    assert [n for n, s in services.items() if "build" in s] == ["migrate"]
    for name, service in services.items():
        assert service.get("restart") in {"unless-stopped", "on-failure"}, name
        for dependency, rule in service.get("depends_on", {}).items():
            assert rule.get("condition"), f"{name} -> {dependency} has no condition"
    for name in ("postgres", "redis", "minio", "kafka", "worker"):
        assert services[name].get("healthcheck", {}).get("test"), name
    for name, service in ours.items():
        # The secret comes from the shared env file, never written into the compose file.
        assert service["environment"]["STREAMCORE_SECRET_KEY"], name
        assert service["command"][1] in STREAMCORE_COMMANDS
    assert "STREAMCORE_SECRET_KEY" not in (DEPLOY / "docker-compose.yml").read_text()
    for name in ("api-1", "api-2", "worker"):
        conditions = {d: r["condition"] for d, r in ours[name]["depends_on"].items()}
        assert conditions["migrate"] == "service_completed_successfully"
        assert conditions["postgres"] == "service_healthy"


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_dockerfile_is_non_root_pinned_healthchecked_and_owns_its_data() -> None:
    steps = dockerfile_instructions()
    images = [arg.split()[0] for op, arg in steps if op == "FROM"]
    assert images
    for image in images:
        _name, _, tag = image.partition(":")
        assert re.match(r"\d+\.\d+\.\d+", tag), f"{image} is not pinned to a version"
    users = [arg for op, arg in steps if op == "USER"]
    assert users
    assert users[-1] not in {"root", "0"}
    assert any(op == "HEALTHCHECK" and "/health" in arg for op, arg in steps)
    env = " ".join(arg for op, arg in steps if op == "ENV")
    data_dir = re.search(r"STREAMCORE_DATA_DIR=(\S+)", env)
    assert data_dir is not None
    runs = " ".join(arg for op, arg in steps if op == "RUN")
    assert f"chown {users[-1]}:{users[-1]} {data_dir.group(1)}" in runs
    # Only runtime packages: the test tools stay out of the image.
    for test_only in ("espeak", "pytest", "[dev]", "chromium", "nodejs"):
        assert test_only not in runs


def test_dockerignore_sends_only_what_the_image_copies() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = {
        src.rstrip("/").removeprefix("./")
        for op, arg in dockerfile_instructions()
        if op == "COPY" and "--from" not in arg
        for src in arg.split()[:-1]
    }
    assert copied == allowed == {
        "pyproject.toml", "README.md", "src",
        "web/package.json", "web/package-lock.json", "web/copy-assets.mjs",
    }  # fmt: skip


def leaf_settings(model: type[BaseModel], prefix: str = "STREAMCORE_") -> set[str]:
    names: set[str] = set()
    for name, field in model.model_fields.items():
        env = prefix + name.upper()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            names |= leaf_settings(field.annotation, env + "__")
        else:
            names.add(env)
    return names


def test_env_example_lists_every_setting() -> None:
    listed = set(re.findall(r"^# (STREAMCORE_[A-Z0-9_]+)=", (ROOT / ".env.example").read_text(),
                            re.MULTILINE))  # fmt: skip
    expected = leaf_settings(Settings)
    assert sorted(expected - listed) == [], "missing from .env.example"
    assert sorted(listed - expected) == [], "not settings (any more)"


def test_ci_workflow_runs_make_test_with_postgres_and_redis() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "test.yml").read_text())
    (job,) = workflow["jobs"].values()
    assert {"postgres", "redis"} <= set(job["services"])
    assert any("make test" in step.get("run", "") for step in job["steps"])
