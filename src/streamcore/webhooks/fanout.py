"""Turning committed domain events into deliveries, losslessly.

Embedded mode: the outbox rows are the source. A batch is locked (SKIP LOCKED), made
into deliveries and stamped `fanned_out_at` in one transaction: each event once.

Kafka mode: a consumer group of its own on the events topic. Deliveries are committed
first, offsets after; a crash in between replays the records, and the (endpoint,
event) pairs already delivered are skipped, so nothing is lost and nothing doubles.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import structlog

from streamcore.adapters.bus.base import (
    Broker,
    BusError,
    Record,
    commit_batch,
    rewind_batch,
)
from streamcore.db.base import utcnow
from streamcore.infra import Infra
from streamcore.processing.consumers import consumer_options
from streamcore.processing.relay import Topics
from streamcore.webhooks import service
from streamcore.webhooks.repository import EVENTS_TOPIC, FanoutRepository

log = structlog.get_logger(__name__)

BATCH = 200
GROUP_SUFFIX = ".webhooks"


async def fan_out_outbox(infra: Infra) -> int:
    """One batch of outbox rows; returns how many deliveries were made."""
    async with infra.transaction() as session:
        repo = FanoutRepository(session)
        rows = await repo.pending(BATCH)
        if not rows:
            return 0
        made = await service.fan_out(session, [r.payload for r in rows if r.topic == EVENTS_TOPIC])
        await repo.mark([r.id for r in rows], utcnow())
    return made if made else -1  # -1: rows were handled, none became a delivery


async def run_outbox_fanout(infra: Infra, stop: asyncio.Event, woke: Callable[[], None]) -> None:
    interval = infra.settings.webhooks.poll_interval_seconds
    while not stop.is_set():
        made = 0
        try:
            made = await fan_out_outbox(infra)
            if made > 0:
                woke()
        except Exception:
            log.exception("webhooks.fanout_failed")
        if made == 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)


def _decode(record: Record) -> dict[str, Any] | None:
    try:
        event = json.loads(record.value)
    except (ValueError, UnicodeDecodeError):
        return None
    return event if isinstance(event, dict) and isinstance(event.get("id"), str) else None


async def handle_records(infra: Infra, records: list[Record]) -> int:
    """Deliveries of a batch of event records, committed; the outbox rows stamped."""
    events = [e for e in (_decode(r) for r in records) if e is not None]
    async with infra.transaction() as session:
        made = await service.fan_out(session, events)
        await FanoutRepository(session).mark([str(e["id"]) for e in events], utcnow())
    return made


async def run_kafka_fanout(
    infra: Infra, broker: Broker, stop: asyncio.Event, woke: Callable[[], None]
) -> None:
    topics = Topics.from_settings(infra.settings)
    group = infra.settings.bus.group_id + GROUP_SUFFIX
    while not stop.is_set():
        consumer = broker.consumer([topics.events], group, consumer_options(infra.settings.bus))
        try:
            await consumer.start()
            while not stop.is_set():
                records = await consumer.poll(0.5, max_records=BATCH)
                if not records:
                    continue
                try:
                    made = await handle_records(infra, records)
                except Exception:
                    log.exception("webhooks.fanout_failed")
                    rewind_batch(consumer, records)
                    await asyncio.sleep(1.0)
                    continue
                if made:
                    woke()
                await commit_batch(consumer, records)
        except BusError as exc:
            log.warning("webhooks.consumer_unavailable", error=str(exc)[:300])
            await asyncio.sleep(1.0)
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()
