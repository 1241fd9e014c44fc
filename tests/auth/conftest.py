"""The app in process (its lifespan run) on a PostgreSQL database of its own, and
callers of every kind."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from streamcore.app import create_app
from streamcore.config import Settings
from streamcore.infra import Infra
from tests.fixtures.services import postgres_database

SECRET = "auth-tests-secret"


@dataclass
class Api:
    app: FastAPI
    infra: Infra

    def client(self, ip: str = "127.0.0.1", **kwargs: Any) -> httpx.AsyncClient:
        """A client whose requests come from ip (rate limits count per address)."""
        transport = httpx.ASGITransport(app=self.app, client=(ip, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://streamcore", **kwargs)


def auth_settings(data_dir: Path, database_url: str, **auth: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        secret_key=SECRET,
        database={"url": database_url},  # type: ignore[arg-type]
        auth=auth,  # type: ignore[arg-type]
        # Webhook endpoints on 127.0.0.2 pass the URL check (the access table makes some).
        webhooks={"allow_networks": "127.0.0.2/32"},  # type: ignore[arg-type]
    )


@asynccontextmanager
async def running_api(settings: Settings) -> AsyncIterator[Api]:
    app = create_app(settings, run_worker=False)
    async with app.router.lifespan_context(app):
        yield Api(app, app.state.infra)


@pytest.fixture(scope="session")
def auth_pg_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
async def api(tmp_path_factory: pytest.TempPathFactory, auth_pg_url: str) -> AsyncIterator[Api]:
    """Generous login limits: the rate-limit tests make their own app."""
    settings = auth_settings(
        tmp_path_factory.mktemp("auth-api"),
        auth_pg_url,
        login_ip_limit=100_000,
        login_account_limit=100_000,
        login_pair_limit=100_000,
    )
    async with running_api(settings) as built:
        yield built
