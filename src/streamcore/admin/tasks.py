"""Admin work that runs its own transactions (the CLI is its edge): replaying the DLQ."""

from __future__ import annotations

import time

from streamcore.errors import Conflict, NotFound
from streamcore.infra import Infra
from streamcore.models import JobStatus
from streamcore.processing import service as processing
from streamcore.processing.consumers import consumer_options
from streamcore.processing.relay import OutboxRelay, decode


async def replay_dlq(infra: Infra, *, timeout: float = 60.0) -> list[str]:
    """Put every dead job back in the queue: in Kafka mode the ones named by the DLQ
    topics' records (consumed in their own group), else every dead job in the table.
    Returns the ids of the jobs replayed."""
    bus = infra.bus.broker
    if bus is None:
        async with infra.transaction() as session:
            ids = [job.id for job in await processing.dead_jobs(session)]
        return [job_id for job_id in ids if await _replay_one(infra, job_id)]
    relay = OutboxRelay(infra, bus)
    await relay.ensure_topics()
    dlq = [relay.topics.dlq(t) for t in relay.topics.jobs()]
    group = f"{infra.settings.bus.group_id}.dlq-replay"
    # Only what is in the DLQ now: a replayed job that dies again waits for the next run.
    snapshot = {
        (topic, p): end
        for topic, parts in (await bus.offsets(group, dlq)).items()
        for p, (_, end) in parts.items()
    }
    consumer = bus.consumer(dlq, group, consumer_options(infra.settings.bus))
    replayed: list[str] = []
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for record in await consumer.poll(1.0, max_records=100):
                if record.offset >= snapshot.get((record.topic, record.partition), 0):
                    continue
                body = decode(record.value)
                if body is not None and await _replay_one(infra, str(body["job_id"])):
                    replayed.append(str(body["job_id"]))
                await consumer.commit(record)
            now = await bus.offsets(group, dlq)
            if all(now[t][p][0] >= end for (t, p), end in snapshot.items()):
                break
    finally:
        await consumer.stop()
    await relay.publish_due()
    return replayed


async def _replay_one(infra: Infra, job_id: str) -> bool:
    """Retry job_id if it is still dead (a record may outlive a replay by the API)."""
    try:
        async with infra.transaction() as session:
            job = await processing.get_job(session, job_id)
            if job is None or job.status is not JobStatus.dead:
                return False
            await processing.retry_job(session, job_id)
    except (NotFound, Conflict):
        return False
    return True
