"""In-process webhooks: an Infra on a migrated database (SQLite and PostgreSQL) whose
webhook settings allow the receiver's loopback address 127.0.0.2 (127.0.0.1 stays
refused), with the fan-out and the dispatcher running as they do in the worker."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from streamcore.config import Settings
from streamcore.db.migrate import ensure_schema
from streamcore.infra import Infra, build_infra
from streamcore.models import WebhookEndpoint
from streamcore.projects import service as projects
from streamcore.webhooks import service
from streamcore.webhooks.delivery import Dispatcher
from streamcore.webhooks.fanout import run_outbox_fanout
from streamcore.webhooks.schemas import WebhookCreate
from tests.conftest import BACKENDS
from tests.webhooks.receiver import Receiver, receiver

ALLOW = "127.0.0.2/32"


def webhook_settings(tmp_path: Path, database_url: str, **webhooks: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        secret_key="webhook-tests",
        database={"url": database_url},  # type: ignore[arg-type]
        webhooks={  # type: ignore[arg-type]
            "allow_networks": ALLOW,
            "retry_schedule_seconds": [0.2, 0.4, 0.8],
            "poll_interval_seconds": 0.05,
            **webhooks,
        },
    )


@dataclass
class Hooks:
    infra: Infra
    receiver: Receiver
    project_id: str
    dispatcher: Dispatcher | None = None
    _stop: asyncio.Event | None = None
    _tasks: list[asyncio.Task[None]] | None = None

    async def endpoint(self, path: str, **fields: Any) -> WebhookEndpoint:
        body = WebhookCreate(url=self.receiver.url(path), **fields)
        async with self.infra.transaction() as s:
            endpoint = await service.create(s, self.infra.webhooks, self.project_id, body)
        self.receiver.routes[path].secret = endpoint.secret
        return endpoint

    def start(self) -> None:
        self._stop = asyncio.Event()
        self.dispatcher = Dispatcher(self.infra)
        self._tasks = [
            asyncio.create_task(
                run_outbox_fanout(self.infra, self._stop, self.dispatcher.wake.set)
            ),
            asyncio.create_task(self.dispatcher.run(self._stop)),
        ]

    async def stop(self) -> None:
        if self._stop is not None and self._tasks:
            self._stop.set()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks = None


@pytest.fixture
def hook_receiver() -> Iterator[Receiver]:
    with receiver("127.0.0.2") as r:
        yield r


@pytest.fixture(scope="session")
async def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied per test (migrating takes about a second)."""
    path = tmp_path_factory.mktemp("wh-template") / "template.db"
    infra = build_infra(webhook_settings(path.parent, f"sqlite+aiosqlite:///{path}"))
    try:
        await ensure_schema(infra.engine)
    finally:
        await infra.close()
    return path


def _url(backend: str, tmp_path: Path, pg_url: str, template: Path) -> str:
    if backend == "postgresql":
        return pg_url
    shutil.copyfile(template, tmp_path / "wh.db")
    return f"sqlite+aiosqlite:///{tmp_path / 'wh.db'}"


@pytest.fixture(params=BACKENDS)
async def hooks(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    pg_url: str,
    hook_receiver: Receiver,
    sqlite_template: Path,
) -> AsyncIterator[Hooks]:
    marker = request.node.get_closest_marker("webhook_settings")
    overrides: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    infra = build_infra(
        webhook_settings(
            tmp_path, _url(request.param, tmp_path, pg_url, sqlite_template), **overrides
        )
    )
    await ensure_schema(infra.engine)
    async with infra.transaction() as s:
        project = await projects.create_project(s, "hooks")
    built = Hooks(infra, hook_receiver, project.id)
    try:
        yield built
    finally:
        await built.stop()
        # The PostgreSQL database is shared by the run: leave no endpoint behind.
        async with infra.transaction() as s:
            for endpoint in await service.list_endpoints(s, project.id):
                await service.delete(s, endpoint)
        await infra.close()
