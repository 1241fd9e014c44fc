"""Engine and session factory. One transaction per request or job, committed at the edge."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# session.info key: ids of jobs written in this transaction, published after commit.
PENDING_JOBS = "streamcore.pending_jobs"
# session.info key: kinds of the jobs created in this transaction (counted after commit).
ENQUEUED_KINDS = "streamcore.enqueued_kinds"
# session.info key: async callables to run after a successful commit (event fan-out).
AFTER_COMMIT = "streamcore.after_commit"


SQLITE_BUSY_SECONDS = 90


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    kwargs: dict[str, Any] = {"echo": echo}
    if is_sqlite(url):
        # Several tasks (API + in-process worker) share the file: wait for the lock
        # instead of failing, and let readers run beside the writer (WAL). SQLite's
        # busy handler is not fair (a waiter polls every 100 ms; newcomers can win each
        # gap), so on a starved machine one waiter can be passed over for tens of
        # seconds: the bound is generous.
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_SECONDS}
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["pool_size"] = 10
        kwargs["max_overflow"] = 10
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
            cur.close()
            # Take the write lock when the transaction starts: a deferred transaction that
            # reads and later writes fails at once (SQLITE_BUSY_SNAPSHOT) under WAL when
            # another connection wrote in between, whatever the busy timeout.
            dbapi_conn.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
