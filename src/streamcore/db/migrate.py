"""Alembic driven from code, so an installed package can migrate without an ini file.

On PostgreSQL every upgrade runs under one transaction-level advisory lock: several
nodes starting at once on an empty database (or `migrate` run beside them) take turns,
and each after the first finds the schema at head and does nothing. Without it they
all created the same tables and all but one failed with UniqueViolationError.
"""

from __future__ import annotations

from pathlib import Path

import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

log = structlog.get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# pg_advisory_xact_lock key of schema migrations: "strmcore" as a big-endian int64.
MIGRATION_LOCK_KEY = int.from_bytes(b"strmcore", "big") - 2**63


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option(
        "file_template",
        "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s",
    )
    return cfg


def _upgrade(connection: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Held until this transaction ends, i.e. until the migration committed.
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        await conn.run_sync(_upgrade, revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


class SchemaOutOfDate(RuntimeError):
    """The database is behind the code and auto-migration is off."""


async def ensure_schema(engine: AsyncEngine, *, auto_migrate: bool = True) -> None:
    """Migrate an empty database; an out-of-date one too when auto_migrate allows."""
    current = await current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if current is None or auto_migrate:
        log.info("db.migrating", current=current, head=head)
        await upgrade(engine)
        return
    raise SchemaOutOfDate(
        f"database is at {current}, code expects {head}: run `streamcore migrate`"
    )
