"""The analytics loops the workers run: the rollup (with the retention sweep) and, in
Kafka mode, the consumer that writes the analytics topic's records to the database.

The consumer commits offsets only after the rows committed; a crash in between writes
a batch twice. The numbers stay right: a view is summed up from its events with exact
duplicates dropped (metrics.summarize), so only the raw table holds the copy."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from streamcore.adapters.bus.base import Broker, BusError, Record, commit_batch, rewind_batch
from streamcore.analytics import repository, service
from streamcore.db.base import new_id
from streamcore.infra import Infra
from streamcore.processing.consumers import consumer_options
from streamcore.processing.relay import Topics

log = structlog.get_logger(__name__)

BATCH = 500
GROUP_SUFFIX = ".analytics"
EVENT_FIELDS = frozenset(
    {"video_id", "view_id", "viewer_hash", "type", "at", "player_time", "rendition",
     "bitrate", "duration_ms", "error_code"}
)  # fmt: skip


async def run_rollups(infra: Infra, stop: asyncio.Event) -> None:
    """Fold pending views every `rollup_seconds` (at once again while a round was
    full), and sweep what is past retention every `sweep_interval_seconds`."""
    cfg = infra.settings.analytics
    last_sweep = 0.0
    while not stop.is_set():
        folded = 0
        try:
            folded = await service.roll_up_pending(infra)
            if time.monotonic() - last_sweep >= cfg.sweep_interval_seconds:
                last_sweep = time.monotonic()
                deleted = await service.sweep_retention(infra)
                if deleted:
                    log.info("analytics.swept", rows=deleted)
        except Exception:
            log.exception("analytics.rollup_failed")
        if folded < cfg.rollup_views:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), cfg.rollup_seconds)


Traffic = tuple[str, str, datetime, int, int]
VIEW_FIELDS = ("asset_id", "path", "kind", "status_code", "bytes_sent", "client_ip", "user_agent")


@dataclass
class Decoded:
    events: list[dict[str, Any]] = field(default_factory=list)
    traffic: list[Traffic] = field(default_factory=list)
    views: list[dict[str, Any]] = field(default_factory=list)


def _view(row: dict[str, Any]) -> dict[str, Any]:
    created = datetime.fromisoformat(row["created_at"])
    out = {k: row[k] for k in VIEW_FIELDS}
    return {**out, "id": new_id(), "created_at": created, "updated_at": created}


def decode(record: Record, into: Decoded) -> None:
    """Adds one record's rows; a record that is not ours adds nothing."""
    try:
        body = json.loads(record.value)
        kind, rows = body.get("kind"), body["rows"]
        if kind == "events":
            into.events += [{k: r[k] for k in EVENT_FIELDS} for r in rows]
            return
        if kind == "traffic":
            into.traffic += [
                (str(v), str(r), datetime.fromisoformat(h), int(n), int(b))
                for v, r, h, n, b in rows
            ]
            return
        if kind == "views":
            into.views += [_view(r) for r in rows]
            return
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, AttributeError):
        pass
    log.warning("analytics.record_skipped", topic=record.topic, offset=record.offset)


async def write_records(infra: Infra, records: Sequence[Record]) -> int:
    """The rows of a batch of records, in one transaction; returns the events."""
    batch = Decoded()
    for record in records:
        decode(record, batch)
    async with infra.transaction() as session:
        await repository.add_events(session, batch.events)
        if batch.traffic:
            await repository.add_traffic(session, batch.traffic)
        if batch.views:
            await repository.add_stream_logs(session, batch.views)
    return len(batch.events)


async def run_kafka_ingest(infra: Infra, broker: Broker, stop: asyncio.Event) -> None:
    """The analytics topic into the database, in batches, in a consumer group of its own."""
    topic = Topics.from_settings(infra.settings).analytics
    group = infra.settings.bus.group_id + GROUP_SUFFIX
    while not stop.is_set():
        consumer = broker.consumer([topic], group, consumer_options(infra.settings.bus))
        try:
            await consumer.start()
            while not stop.is_set():
                records = await consumer.poll(0.5, max_records=BATCH)
                if not records:
                    continue
                try:
                    await write_records(infra, records)
                except Exception:
                    log.exception("analytics.ingest_failed")
                    rewind_batch(consumer, records)
                    await asyncio.sleep(1.0)
                    continue
                await commit_batch(consumer, records)
        except BusError as exc:
            log.warning("analytics.consumer_unavailable", error=str(exc)[:300])
            await asyncio.sleep(1.0)
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()
