"""View logging off the request path: a request appends a row to a buffer (no I/O), a
background task flushes the buffer in batches to a sink: the `stream_logs` table
today; the analytics issue adds a Kafka sink for its `streamcore.analytics` topic
behind the same ViewSink seam.

A full buffer (the sink is down or slower than playback) drops new rows and counts
them, rather than slowing playback down or growing without bound."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Protocol

import structlog
from sqlalchemy import insert

from streamcore.db.base import new_id, utcnow
from streamcore.infra import Infra
from streamcore.models import StreamLog

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class View:
    asset_id: str
    path: str
    kind: str
    status_code: int
    bytes_sent: int | None
    client_ip: str | None
    user_agent: str | None
    created_at: datetime


class ViewSink(Protocol):
    name: str

    async def write(self, views: list[View]) -> None: ...


class DatabaseViewSink:
    """One multi-row INSERT into stream_logs per batch."""

    name = "db"

    def __init__(self, infra: Infra) -> None:
        self.infra = infra

    async def write(self, views: list[View]) -> None:
        rows = [{**asdict(v), "id": new_id(), "updated_at": v.created_at} for v in views]
        async with self.infra.transaction() as session:
            await session.execute(insert(StreamLog), rows)


class ViewLog:
    def __init__(
        self, sink: ViewSink, *, flush_seconds: float, batch: int, max_buffered: int
    ) -> None:
        self.sink = sink
        self.flush_seconds = flush_seconds
        self.batch = batch
        self.max_buffered = max_buffered
        self.dropped = 0
        self.written = 0
        self._buffer: list[View] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def record(
        self,
        asset_id: str,
        path: str,
        kind: str,
        bytes_sent: int | None,
        client_ip: str | None,
        user_agent: str | None,
        status_code: int = 200,
    ) -> None:
        """Called in the request: append, never wait."""
        if len(self._buffer) >= self.max_buffered:
            self.dropped += 1
            return
        ua = (user_agent or "")[:512] or None
        self._buffer.append(
            View(asset_id, path, kind, status_code, bytes_sent, client_ip, ua, utcnow())
        )
        if len(self._buffer) >= self.batch:
            self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="view-log-flush")

    async def stop(self) -> None:
        """Stop the flusher and write what is buffered."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def flush(self) -> None:
        while self._buffer:
            batch, self._buffer = self._buffer[: self.batch], self._buffer[self.batch :]
            try:
                await self.sink.write(batch)
                self.written += len(batch)
            except Exception:
                # Keep the rows for the next round unless that would overflow.
                log.warning("stream.view_log_flush_failed", rows=len(batch), exc_info=True)
                room = self.max_buffered - len(self._buffer)
                self._buffer[:0] = batch[: max(room, 0)]
                self.dropped += len(batch) - max(room, 0)
                return

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_seconds)
            self._wake.clear()
            await self.flush()
