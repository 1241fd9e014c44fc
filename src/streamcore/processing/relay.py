"""The outbox relay (Kafka mode): publishes job rows to their topics after commit.

A job row owes a message while its `published_at` is NULL: a new or re-queued job once
it is due (so retry backoff is honoured here), and a dead job (its record goes to the
topic's DLQ). The relay sends, then stamps `published_at` in the same transaction: a
crash in between only sends the message twice, and consumers ignore the duplicate.
Every API and worker process runs one; SKIP LOCKED keeps them off each other's rows.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from dataclasses import dataclass
from datetime import timedelta

import structlog

from streamcore.adapters.bus.base import Broker, BusUnavailable, Outgoing
from streamcore.config import Settings
from streamcore.db.base import utcnow
from streamcore.infra import Infra
from streamcore.models import Job, JobKind, JobStatus
from streamcore.processing.repository import JobRepository, OutboxEventRepository

log = structlog.get_logger(__name__)

BATCH = 500


@dataclass(frozen=True)
class Topics:
    """Topic names by job kind, from settings."""

    ingest: str
    transcode: str
    transcribe: str
    transcribed: str
    purge: str
    transcode_chunk: str
    transcode_audio: str
    stitch: str
    events: str
    analytics: str
    dlq_suffix: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Topics:
        t = settings.bus.topics
        return cls(
            ingest=t.prefix + t.ingest,
            transcode=t.prefix + t.transcode,
            transcribe=t.prefix + t.transcribe,
            transcribed=t.prefix + t.transcribed,
            purge=t.prefix + t.purge,
            transcode_chunk=t.prefix + t.transcode_chunk,
            transcode_audio=t.prefix + t.transcode_audio,
            stitch=t.prefix + t.stitch,
            events=t.prefix + t.events,
            analytics=t.prefix + t.analytics,
            dlq_suffix=t.dlq_suffix,
        )

    def for_kind(self, kind: JobKind) -> str:
        return str(getattr(self, kind.value))

    def dlq(self, topic: str) -> str:
        return topic + self.dlq_suffix

    def jobs(self, kinds: list[JobKind] | None = None) -> list[str]:
        return [self.for_kind(k) for k in (kinds or list(JobKind))]

    def all(self) -> list[str]:
        base = [self.ingest, self.transcode, self.transcribe, self.transcribed, self.purge]
        base += [self.transcode_chunk, self.transcode_audio, self.stitch]
        return [*base, *(self.dlq(t) for t in base), self.events, self.analytics]

    def for_event(self, name: str) -> str:
        """The configured topic of a domain event recorded under its logical name."""
        return {"media.transcribed": self.transcribed, "events": self.events}.get(name, name)

    def kind_of(self, topic: str) -> JobKind | None:
        return next((k for k in JobKind if self.for_kind(k) == topic), None)


def encode(job: Job) -> bytes:
    """Ids only: the row is the truth."""
    body: dict[str, object] = {
        "job_id": job.id,
        "asset_id": job.asset_id,
        "kind": job.kind.value,
        "attempt": job.attempts,
    }
    if job.status is JobStatus.dead:
        body["error_class"] = job.error_class
    return json.dumps(body).encode()


def decode(value: bytes) -> dict[str, object] | None:
    try:
        body = json.loads(value)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict) or not isinstance(body.get("job_id"), str):
        return None
    return body


class OutboxRelay:
    def __init__(self, infra: Infra, bus: Broker) -> None:
        self.infra = infra
        self.bus = bus
        self.settings = infra.settings.bus
        self.topics = Topics.from_settings(infra.settings)
        self.published = 0

    def message(self, job: Job) -> Outgoing:
        topic = self.topics.for_kind(job.kind)
        if job.status is JobStatus.dead:
            topic = self.topics.dlq(topic)
        return Outgoing(topic, job.asset_id, encode(job))

    async def ensure_topics(self) -> None:
        """Create missing topics; when job topics had to be made, the broker lost (or
        never had) their messages, so every queued job is published again."""
        wanted = {name: self.settings.partitions for name in self.topics.all()}
        created = await self.bus.ensure_topics(wanted, self.settings.replication_factor)
        if set(created) & set(self.topics.jobs()):
            async with self.infra.transaction() as session:
                count = await JobRepository(session).forget_published()
            if count:
                log.warning("relay.republishing_after_topic_loss", jobs=count)

    async def publish_events(self) -> int:
        """Publish recorded domain events (`media.transcribed` and every video event),
        in commit order, keyed by asset so one asset's events stay in order on their
        partition; stamped like jobs."""
        total = 0
        while True:
            async with self.infra.transaction() as session:
                repo = OutboxEventRepository(session)
                if not await repo.lock_publisher():
                    return total  # another relay is publishing them
                events = await repo.unpublished(BATCH)
                if events:
                    await self.bus.send(
                        [
                            Outgoing(
                                self.topics.for_event(e.topic),
                                e.key,
                                json.dumps(e.payload).encode(),
                            )
                            for e in events
                        ]
                    )
                    now = utcnow()
                    for event in events:
                        event.published_at = now
            total += len(events)
            if len(events) < BATCH:
                return total

    async def publish_due(self) -> int:
        """Publish every job that owes a message now, and the recorded domain events;
        returns how many jobs."""
        await self.publish_events()
        total = 0
        while True:
            async with self.infra.transaction() as session:
                now = utcnow()
                jobs = await JobRepository(session).unpublished(now, BATCH)
                if jobs:
                    await self.bus.send([self.message(job) for job in jobs])
                    for job in jobs:
                        job.published_at = now
            total += len(jobs)
            if len(jobs) < BATCH:
                break
        self.published += total
        return total

    async def republish_stale(self) -> int:
        """Queued jobs published long ago and never taken: the message was lost."""
        before = utcnow() - timedelta(seconds=self.settings.republish_after_seconds)
        async with self.infra.transaction() as session:
            jobs = await JobRepository(session).published_before(before, BATCH)
            if jobs:
                await self.bus.send([self.message(job) for job in jobs])
                now = utcnow()
                for job in jobs:
                    job.published_at = now
        if jobs:
            log.warning("relay.republished_stale", jobs=len(jobs))
        return len(jobs)

    async def run(self, stop: asyncio.Event) -> None:
        """Publish after each commit that wrote jobs, and at least every interval."""
        last_topic_check = -math.inf
        last_stale_check = time.monotonic()
        while not stop.is_set():
            now = time.monotonic()
            try:
                if now - last_topic_check >= self.settings.topic_check_seconds:
                    await self.ensure_topics()
                    last_topic_check = now
                await self.publish_due()
                if now - last_stale_check >= self.settings.republish_after_seconds / 4:
                    await self.republish_stale()
                    last_stale_check = now
            except BusUnavailable as exc:
                # Check topics first thing when the broker is back: it may have lost them.
                last_topic_check = -math.inf
                log.warning("relay.bus_unavailable", error=str(exc)[:300])
            except Exception:
                log.exception("relay.failed")
            await self.infra.bus.wait(self.settings.relay_interval_seconds)
