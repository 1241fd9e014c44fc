"""View logging off the request path: a request appends a row to a buffer (no I/O), a
background task flushes the buffer in batches to a sink: the `stream_logs` table
(embedded mode), or the `streamcore.analytics` topic (Kafka mode), which the workers'
analytics consumer writes to the same table.

Segments are not logged one row each: their bytes are summed per (video, rendition,
hour) in memory and flushed with the views as traffic, which the analytics rollup
shows as bytes served.

A full buffer (the sink is down or slower than playback) drops new rows and counts
them, rather than slowing playback down or growing without bound."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Protocol

import structlog
from sqlalchemy import insert

from streamcore.adapters.bus.base import Broker, Outgoing
from streamcore.analytics import service as analytics
from streamcore.analytics.flusher import PeriodicFlusher
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


# (video, rendition, hour, requests, bytes)
Traffic = tuple[str, str, datetime, int, int]


class ViewSink(Protocol):
    name: str

    async def write(self, views: list[View]) -> None: ...
    async def write_traffic(self, traffic: list[Traffic]) -> None: ...


def view_row(view: View) -> dict[str, object]:
    return {**asdict(view), "id": new_id(), "updated_at": view.created_at}


class DatabaseViewSink:
    """One multi-row INSERT into stream_logs per batch; traffic into the rollups."""

    name = "db"

    def __init__(self, infra: Infra) -> None:
        self.infra = infra

    async def write(self, views: list[View]) -> None:
        rows = [view_row(v) for v in views]
        async with self.infra.transaction() as session:
            await session.execute(insert(StreamLog), rows)

    async def write_traffic(self, traffic: list[Traffic]) -> None:
        await analytics.add_traffic(self.infra, traffic)


class KafkaViewSink:
    """One record per batch on the analytics topic (keyed by the first video)."""

    name = "kafka"

    def __init__(self, broker: Broker, topic: str) -> None:
        self.broker = broker
        self.topic = topic

    async def _send(self, kind: str, key: str, rows: list[object]) -> None:
        body = json.dumps({"v": 1, "kind": kind, "rows": rows}, default=str).encode()
        await self.broker.send([Outgoing(self.topic, key, body)])

    async def write(self, views: list[View]) -> None:
        rows: list[object] = [{**asdict(v), "created_at": v.created_at.isoformat()} for v in views]
        await self._send("views", views[0].asset_id, rows)

    async def write_traffic(self, traffic: list[Traffic]) -> None:
        rows: list[object] = [[v, r, h.isoformat(), n, b] for v, r, h, n, b in traffic]
        await self._send("traffic", traffic[0][0], rows)


def build_sink(infra: Infra) -> ViewSink:
    broker = infra.bus.broker
    if broker is None:
        return DatabaseViewSink(infra)
    t = infra.settings.bus.topics
    return KafkaViewSink(broker, t.prefix + t.analytics)


def rendition_of(path: str) -> str:
    """`hls/<rendition>/<segment>` -> rendition ("" for anything else)."""
    parts = path.split("/")
    return parts[1][:32] if len(parts) == 3 and parts[0] == "hls" else ""


class ViewLog(PeriodicFlusher):
    task_name = "view-log-flush"

    def __init__(
        self, sink: ViewSink, *, flush_seconds: float, batch: int, max_buffered: int
    ) -> None:
        super().__init__(flush_seconds)
        self.sink = sink
        self.batch = batch
        self.max_buffered = max_buffered
        self.dropped = 0
        self.written = 0
        self._buffer: list[View] = []
        # (video, rendition, hour start epoch s) -> [requests, bytes]
        self._traffic: dict[tuple[str, str, int], list[int]] = {}

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
            self.wake()

    def add_bytes(self, asset_id: str, path: str, sent: int) -> None:
        """A segment (or other file) served: counted, never written per request."""
        if len(self._traffic) >= self.max_buffered:
            self.dropped += 1
            return
        hour = int(time.time()) // 3600 * 3600
        acc = self._traffic.setdefault((asset_id, rendition_of(path), hour), [0, 0])
        acc[0] += 1
        acc[1] += sent

    async def _flush(self) -> None:
        await self._flush_traffic()
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

    async def _flush_traffic(self) -> None:
        if not self._traffic:
            return
        taken, self._traffic = self._traffic, {}
        rows = [
            (video, rendition, datetime.fromtimestamp(hour, UTC), n, sent)
            for (video, rendition, hour), (n, sent) in taken.items()
        ]
        try:
            await self.sink.write_traffic(rows)
        except Exception:
            log.warning("stream.traffic_flush_failed", rows=len(rows), exc_info=True)
            for key, (n, sent) in taken.items():
                acc = self._traffic.setdefault(key, [0, 0])
                acc[0] += n
                acc[1] += sent
