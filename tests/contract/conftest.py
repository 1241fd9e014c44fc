"""The app in process on a database of its own, with a user who owns a project: the
hostile-input and contract tests talk to it through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from streamcore.auth import service as auth
from streamcore.config import Settings
from streamcore.models import Asset, Upload, UploadLog
from streamcore.organizations import service as organizations
from streamcore.projects import service as projects
from streamcore.sessions import service as sessions
from tests.auth.conftest import Api, running_api

MiB = 1024 * 1024


@dataclass
class Tenant:
    api: Api
    data_dir: Path
    headers: dict[str, str]
    admin_headers: dict[str, str]
    project: str
    session: str
    org: str

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return self.api.client(headers=self.headers, **kwargs)

    def objects(self) -> list[Path]:
        """Every file in object storage (temporary parts included)."""
        root = self.data_dir / "objects"
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []

    async def rows(self) -> dict[str, int]:
        """How many assets and uploads the database holds."""
        async with self.api.infra.transaction() as s:
            out = {}
            for name, model in (("assets", Asset), ("uploads", Upload)):
                out[name] = int(
                    (await s.execute(select(func.count()).select_from(model))).scalar_one()
                )
            return out

    async def upload_log_rows(self) -> int:
        async with self.api.infra.transaction() as s:
            stmt = select(func.count()).select_from(UploadLog)
            return int((await s.execute(stmt)).scalar_one())


def contract_settings(data_dir: Path, database_url: str, **upload: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        secret_key="contract-tests-secret",
        database={"url": database_url},  # type: ignore[arg-type]
        upload=upload,  # type: ignore[arg-type]
        auth={"login_ip_limit": 10**6, "login_account_limit": 10**6, "login_pair_limit": 10**6},  # type: ignore[arg-type]
    )


async def make_tenant(api: Api, data_dir: Path) -> Tenant:
    infra = api.infra
    async with infra.transaction() as s:
        owner = await auth.create_user(s, infra, "owner@contract.test", "owner password")
        admin = await auth.create_user(
            s, infra, "root@contract.test", "admin password", superadmin=True
        )
        org = await organizations.first_owned(s, owner.id)
        assert org is not None
        project = await projects.create_project(s, "contract", org.id)
        rec = await sessions.create_session(s, project.id, "s")
    return Tenant(
        api=api,
        data_dir=data_dir,
        headers={"Authorization": f"Bearer {infra.access_tokens.issue(owner.id)}"},
        admin_headers={"Authorization": f"Bearer {infra.access_tokens.issue(admin.id)}"},
        project=project.id,
        session=rec.id,
        org=org.id,
    )


@pytest.fixture
async def small(tmp_path: Path) -> AsyncIterator[Tenant]:
    """Limits small enough to cross in a test: 1 MiB per upload, 256 KiB per chunk."""
    db = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    settings = contract_settings(tmp_path, db, max_bytes=MiB, max_chunk_bytes=256 * 1024)
    async with running_api(settings) as api:
        yield await make_tenant(api, tmp_path)
