"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

import streamcore.models  # noqa: F401
from streamcore.db import migrate
from streamcore.db.base import Base
from streamcore.infra import Infra


def _diff(conn: Connection) -> list[object]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": False})
    return list(compare_metadata(ctx, Base.metadata))


async def test_migrated_schema_matches_models(infra: Infra) -> None:
    assert await migrate.current_revision(infra.engine) == migrate.head_revision()
    async with infra.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []
