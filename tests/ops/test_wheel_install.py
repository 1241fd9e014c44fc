"""The built wheel, installed (not editable) into a fresh virtual environment, runs a
job end to end as an unprivileged user, laid out as deploy/Dockerfile lays it out: the
code owned by root and read-only to the user, a data directory the user owns as
STREAMCORE_DATA_DIR and working directory, and nothing else writable."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.services import free_port

ROOT = Path(__file__).resolve().parents[2]
USER = "nobody"
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"

pytestmark = pytest.mark.slow


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A directory the unprivileged user can reach (pytest's tmp_path is root-only)."""
    path = Path(tempfile.mkdtemp(prefix="streamcore-wheel-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _build_wheel(out: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "--wheel-dir", str(out), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = out.glob("streamcore-*.whl")
    return wheel


def _interpreter_for_user() -> str:
    """This Python, or the system's of the same version when the user cannot run this
    one (e.g. one under root's home): the venv's dependencies need the same ABI."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (str(Path(sys.base_prefix) / "bin" / f"python{version}"),
                      f"/usr/bin/python{version}"):  # fmt: skip
        probe = [RUNUSER, "-u", USER, "--", candidate, "-c", "import ssl, sqlite3"]
        if Path(candidate).exists() and subprocess.run(probe, capture_output=True).returncode == 0:
            return candidate
    pytest.fail(f"no Python {version} that {USER} may run")


def _fresh_venv(path: Path, wheel: Path) -> Path:
    """A new venv with the wheel installed. Its dependencies come from this run's venv
    through a .pth line (a plain path: the editable install's finder hook there is not
    loaded), so the test needs no network; streamcore itself is the wheel's copy."""
    subprocess.run([_interpreter_for_user(), "-m", "venv", str(path)], check=True, timeout=120)
    python = path / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    site = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            text=True,
        ).strip()
    )
    (site / "zz-streamcore-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def test_built_wheel_runs_a_job_as_an_unprivileged_user(scratch: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("switching to an unprivileged user needs root (CI runs as root)")
    wheel = _build_wheel(scratch / "dist")
    python = _fresh_venv(scratch / "venv", wheel)
    where = subprocess.check_output(
        [str(python), "-c", "import streamcore; print(streamcore.__file__)"], text=True
    )
    assert where.startswith(str(scratch / "venv")), where  # the wheel, not the checkout
    assert not (Path(where).parent / "migrations" / "versions").is_symlink()

    data = scratch / "data"  # the Dockerfile's /data: owned by the user, nothing else is
    data.mkdir()
    shutil.chown(data, USER)
    env = {
        "PATH": f"{scratch / 'venv' / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(data),
        "STREAMCORE_DATA_DIR": str(data),
        "STREAMCORE_MEDIA__PRESET": "ultrafast",
        "STREAMCORE_LOG_JSON": "true",
    }
    out = subprocess.run(
        [RUNUSER, "-u", USER, "--", str(scratch / "venv" / "bin" / "streamcore"), "demo",
         "--port", str(free_port()), "--exit"],
        cwd=data, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "Ready." in out.stderr
    assert "PermissionError" not in out.stdout + out.stderr
    assert any((data / "objects" / "assets").rglob("master.m3u8"))
    owners = {p.stat().st_uid for p in data.rglob("*")}
    assert owners == {int(subprocess.check_output(["id", "-u", USER], text=True))}
