"""Alembic environment: runs on the connection streamcore.db.migrate hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

import streamcore.models  # noqa: F401  (registers every table)
from streamcore.db.base import Base

target_metadata = Base.metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `streamcore migrate`")
run(connection)
