from __future__ import annotations

import contextlib
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from streamcore.config import Settings
from streamcore.infra import Infra, build_infra
from tests.fixtures.datastores import session_redis_url, stop_session_servers
from tests.fixtures.kafka import Broker, start_broker
from tests.fixtures.media import make_clip
from tests.fixtures.object_stores import AzureServer, S3Server, azurite, seaweedfs
from tests.fixtures.services import LiveServer, live_server, postgres_database, server_env
from tests.fixtures.speech import SENTENCES, make_speech_clip, speak, to_16k_mono

BACKENDS = ["sqlite", "postgresql"]


def pytest_configure(config: pytest.Config) -> None:
    for tool in ("ffmpeg", "ffprobe", "espeak-ng"):
        if shutil.which(tool) is None:
            raise pytest.UsageError(f"{tool} is not installed; run `make test` (it installs it)")


def pytest_unconfigure(config: pytest.Config) -> None:
    stop_session_servers()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed test that used a live server shows that server's errors: a 500 seen
    from outside says nothing of its cause."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not report.failed:
        return
    for name, value in getattr(item, "funcargs", {}).items():
        if isinstance(value, LiveServer) and value.log_path.exists():
            lines = value.log_path.read_text(errors="replace").splitlines()
            starts = [i for i, ln in enumerate(lines) if "Traceback" in ln or "[error" in ln]
            first = starts[-3] if len(starts) >= 3 else (starts[0] if starts else len(lines) - 40)
            tail = "\n".join(lines[max(first, len(lines) - 200) :])
            report.sections.append((f"server log ({name})", tail))


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A database of this run for in-process tests."""
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A separate database for the live server, so its worker never takes the jobs
    in-process tests write."""
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """SeaweedFS with its S3 gateway, once per run."""
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as srv:
        yield srv


@pytest.fixture(scope="session")
def azure_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzureServer]:
    """Azurite's blob service, once per run."""
    with azurite(tmp_path_factory.mktemp("azurite")) as srv:
        yield srv


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory of generated test clips, made once per run."""
    d = tmp_path_factory.mktemp("media")
    make_clip(d / "clip720.mp4", seconds=10, size="1280x720")
    make_clip(d / "short360.mp4", seconds=3, size="640x360")
    make_clip(d / "faststart.mp4", seconds=6, size="640x360", faststart=True)
    return d


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """espeak-ng reading SENTENCES: speech.wav (16 kHz mono, ~17 s) and speech.mp4
    (the same over a 426x240 test pattern)."""
    d = tmp_path_factory.mktemp("speech")
    text = " ".join(SENTENCES)
    to_16k_mono(speak(d / "espeak.wav", text), d / "speech.wav")
    make_speech_clip(d / "speech.mp4", text)
    return d


@pytest.fixture(scope="session")
def secret() -> str:
    return secrets.token_urlsafe(32)


def _database_url(backend: str, data_dir: Path, pg_url: str) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{data_dir / 'streamcore.db'}"
    return pg_url


@pytest.fixture(scope="session", params=BACKENDS)
def server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pg_server_url: str,
    secret: str,
) -> Iterator[LiveServer]:
    """A real `streamcore serve` (API + embedded worker) per database backend."""
    backend: str = request.param
    data_dir = tmp_path_factory.mktemp(f"server-{backend}")
    env = server_env(data_dir, _database_url(backend, data_dir, pg_server_url), secret)
    with live_server(data_dir, env) as srv:
        yield srv


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    """A client of the live server, logged in as the owner of its first organization."""
    with httpx.Client(base_url=server.base_url, timeout=60, headers=server.auth_headers) as c:
        yield c


STORAGE_BACKENDS = ["local", "s3", "azure"]
MiB = 1024 * 1024


@pytest.fixture(scope="session", params=STORAGE_BACKENDS)
def storage_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, secret: str
) -> Iterator[LiveServer]:
    """A real `streamcore serve` per storage backend: local disk on SQLite, SeaweedFS
    (segments proxied with Range) on PostgreSQL, Azurite (segments redirected to SAS
    URLs) on SQLite. Presigned uploads over 5 MiB use multipart."""
    backend: str = request.param
    data_dir = tmp_path_factory.mktemp(f"server-{backend}")
    extra = {
        "STREAMCORE_UPLOAD__MULTIPART_THRESHOLD_BYTES": str(5 * MiB),
        "STREAMCORE_UPLOAD__MULTIPART_PART_BYTES": str(5 * MiB),
        "STREAMCORE_STORAGE__PART_BYTES": str(5 * MiB),
    }
    name = f"srv-{secrets.token_hex(4)}"
    db_url = f"sqlite+aiosqlite:///{data_dir / 'streamcore.db'}"
    with contextlib.ExitStack() as stack:
        if backend == "s3":
            extra.update(request.getfixturevalue("s3_server").env(name))
            db_url = stack.enter_context(postgres_database())
        elif backend == "azure":
            extra.update(request.getfixturevalue("azure_server").env(name))
            extra["STREAMCORE_STREAM__REMOTE_DELIVERY"] = "redirect"
        env = server_env(data_dir, db_url, secret, **extra)
        yield stack.enter_context(live_server(data_dir, env))


@pytest.fixture(params=BACKENDS)
async def infra(
    request: pytest.FixtureRequest, tmp_path: Path, pg_url: str
) -> AsyncIterator[Infra]:
    """In-process Infra on a migrated database (no HTTP, no worker loop)."""
    from streamcore.db.migrate import ensure_schema

    settings = Settings(
        data_dir=tmp_path,
        secret_key="test-secret",
        database={"url": _database_url(request.param, tmp_path, pg_url)},  # type: ignore[arg-type]
    )
    built = build_infra(settings)
    await ensure_schema(built.engine)
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """One Tansu broker per test session (tests isolate by topic prefix and group)."""
    started = start_broker(tmp_path_factory.mktemp("tansu"))
    try:
        yield started
    finally:
        started.kill()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The tests' own Redis (started on first use, never the machine's)."""
    return session_redis_url()
