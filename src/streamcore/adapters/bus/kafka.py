"""The Kafka bus (aiokafka): a producer, topic administration, consumers in a group and
lag readings. It moves opaque records; what they mean is the processing domain's
business. aiokafka's errors are translated at this seam into the tree of `base`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from streamcore.adapters.bus.base import (
    Broker,
    BusUnavailable,
    CommitFailed,
    ConsumerOptions,
    Lag,
    Offsets,
    Outgoing,
    Record,
)

log = structlog.get_logger(__name__)

TOPIC_ALREADY_EXISTS = 36


def client_id(role: str) -> str:
    return f"streamcore-{role}-{socket.gethostname()}-{os.getpid()}"


class KafkaBus:
    """A bus that is its own broker."""

    name = "kafka"

    def __init__(self, bootstrap_servers: str, *, request_timeout_ms: int = 15_000) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.request_timeout_ms = request_timeout_ms
        self._wake = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._admin: AIOKafkaAdminClient | None = None
        self._inspectors: dict[str, AIOKafkaConsumer] = {}
        self._lock = asyncio.Lock()

    @property
    def broker(self) -> Broker:
        return self

    @property
    def _timeout(self) -> float:
        return self.request_timeout_ms / 1000

    # The outbox side: committed job rows wake the relay, which publishes them.

    async def notify(self, job_ids: Sequence[str]) -> None:
        if job_ids:
            self._wake.set()

    async def wait(self, timeout: float) -> None:
        """Return when jobs were committed in this process or after timeout seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()

    # Producing.

    async def _get_producer(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self.bootstrap_servers,
                    client_id=client_id("producer"),
                    acks="all",
                    enable_idempotence=False,
                    request_timeout_ms=self.request_timeout_ms,
                    linger_ms=2,
                )
                await self._start(producer.start, producer.stop)
                self._producer = producer
            return self._producer

    async def _start(
        self, start: Callable[[], Awaitable[Any]], stop: Callable[[], Awaitable[Any]]
    ) -> None:
        """Start a producer, consumer or admin client; if it cannot reach the broker,
        stop it again and raise BusUnavailable."""
        try:
            await asyncio.wait_for(start(), self._timeout)
        except (KafkaError, TimeoutError, OSError) as exc:
            with contextlib.suppress(Exception):
                await stop()
            raise BusUnavailable(f"cannot reach Kafka: {exc!r}") from exc

    async def send(self, messages: Sequence[Outgoing]) -> None:
        """Send every message and wait until the broker acknowledged all of them."""
        if not messages:
            return
        producer = await self._get_producer()
        try:
            async with asyncio.timeout(self._timeout):
                futures = [
                    await producer.send(m.topic, m.value, key=m.key.encode()) for m in messages
                ]
                await asyncio.gather(*futures)
        except (KafkaError, TimeoutError, OSError) as exc:
            raise BusUnavailable(f"publish failed: {exc!r}") from exc

    # Topics.

    async def _get_admin(self) -> AIOKafkaAdminClient:
        async with self._lock:
            if self._admin is None:
                admin = AIOKafkaAdminClient(
                    bootstrap_servers=self.bootstrap_servers,
                    client_id=client_id("admin"),
                    request_timeout_ms=self.request_timeout_ms,
                )
                await self._start(admin.start, admin.close)
                self._admin = admin
            return self._admin

    async def ensure_topics(
        self, partitions: Mapping[str, int], replication_factor: int = 1
    ) -> list[str]:
        """Create the topics that do not exist; returns the names it created."""
        admin = await self._get_admin()
        try:
            async with asyncio.timeout(self._timeout):
                existing = set(await admin.list_topics())
                missing = [
                    NewTopic(name, count, replication_factor)
                    for name, count in partitions.items()
                    if name not in existing
                ]
                if not missing:
                    return []
                response = await admin.create_topics(missing)
        except (KafkaError, TimeoutError, OSError) as exc:
            raise BusUnavailable(f"topic check failed: {exc!r}") from exc
        created = []
        for name, code, message in (e[:3] for e in response.topic_errors):
            if code == 0:
                created.append(name)
            elif code != TOPIC_ALREADY_EXISTS:
                raise BusUnavailable(f"creating topic {name} failed: {code} {message}")
        if created:
            log.info("bus.topics_created", topics=created)
        return created

    # Consumer-group readings.

    async def _inspector(self, group_id: str) -> AIOKafkaConsumer:
        async with self._lock:
            consumer = self._inspectors.get(group_id)
            if consumer is None:
                # A consumer that never joins the group: it reads the group's
                # committed offsets, and fetches only to learn high watermarks.
                consumer = AIOKafkaConsumer(
                    bootstrap_servers=self.bootstrap_servers,
                    client_id=client_id("inspector"),
                    group_id=group_id,
                    enable_auto_commit=False,
                    request_timeout_ms=self.request_timeout_ms,
                    fetch_max_wait_ms=20,
                    max_partition_fetch_bytes=1024,
                )
                await self._start(consumer.start, consumer.stop)
                self._inspectors[group_id] = consumer
            return consumer

    async def offsets(self, group_id: str, topics: Sequence[str]) -> Offsets:
        """Per partition: (the group's committed position, the log end)."""
        consumer = await self._inspector(group_id)
        try:
            async with asyncio.timeout(self._timeout):
                await consumer.topics()  # refreshes metadata
                tps = [
                    TopicPartition(t, p)
                    for t in topics
                    for p in sorted(consumer.partitions_for_topic(t) or ())
                ]
                result: Offsets = {t: {} for t in topics}
                if not tps:
                    return result
                listed = await consumer.end_offsets(tps)
                starts = await consumer.beginning_offsets(tps)
                done = {}
                for tp in tps:
                    committed = await consumer.committed(tp)
                    done[tp] = starts[tp] if committed is None else committed
                fetched = await _fetched_highwater(consumer, done)
                for tp in tps:
                    end = max(listed[tp], fetched.get(tp) or 0)
                    result[tp.topic][tp.partition] = (min(done[tp], end), end)
                return result
        except (KafkaError, TimeoutError, OSError) as exc:
            raise BusUnavailable(f"offset reading failed: {exc!r}") from exc

    async def lag(self, group_id: str, topics: Sequence[str]) -> Lag:
        """Records per partition that the group has not committed yet."""
        return {
            topic: {p: max(0, end - done) for p, (done, end) in parts.items()}
            for topic, parts in (await self.offsets(group_id, topics)).items()
        }

    def consumer(
        self, topics: Sequence[str], group_id: str, options: ConsumerOptions
    ) -> TopicConsumer:
        return TopicConsumer(self.bootstrap_servers, topics, group_id, options)

    async def check(self) -> None:
        admin = await self._get_admin()
        try:
            await asyncio.wait_for(admin.list_topics(), self._timeout)
        except (KafkaError, TimeoutError, OSError) as exc:
            raise BusUnavailable(f"Kafka does not answer: {exc!r}") from exc

    async def close(self) -> None:
        clients: list[AIOKafkaProducer | AIOKafkaConsumer] = list(self._inspectors.values())
        if self._producer is not None:
            clients.append(self._producer)
        for client in clients:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.stop(), self._timeout)
        if self._admin is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._admin.close(), self._timeout)
        self._producer, self._admin, self._inspectors = None, None, {}


async def _fetched_highwater(
    consumer: AIOKafkaConsumer, positions: Mapping[TopicPartition, int], wait: float = 2.0
) -> dict[TopicPartition, int | None]:
    """High watermarks as fetch responses report them. Some Kafka-protocol brokers
    (Tansu) answer ListOffsets with the last batch's base offset + 1, far short of the
    log end when the producer batched; a fetch always carries the true high watermark."""
    consumer.assign(list(positions))
    for tp, offset in positions.items():
        consumer.seek(tp, offset)
    deadline = asyncio.get_running_loop().time() + wait
    try:
        while asyncio.get_running_loop().time() < deadline:
            if all(consumer.highwater(tp) is not None for tp in positions):
                break
            await consumer.getmany(timeout_ms=50, max_records=1)
        return {tp: consumer.highwater(tp) for tp in positions}
    finally:
        consumer.pause(*positions)


class TopicConsumer:
    """One member of a consumer group with manual commits, one record at a time."""

    def __init__(
        self, bootstrap_servers: str, topics: Sequence[str], group_id: str, opts: ConsumerOptions
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topics = list(topics)
        self.group_id = group_id
        self.opts = opts
        # A JoinGroup answer waits for the whole rebalance: allow for it.
        self._request_timeout_ms = max(opts.request_timeout_ms, opts.rebalance_timeout_ms + 5000)
        self._timeout = self._request_timeout_ms / 1000
        self._consumer = self._build()

    def _build(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bootstrap_servers,
            client_id=client_id("consumer"),
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self.opts.session_timeout_ms,
            heartbeat_interval_ms=self.opts.heartbeat_interval_ms,
            max_poll_interval_ms=self.opts.max_poll_interval_ms,
            rebalance_timeout_ms=self.opts.rebalance_timeout_ms,
            request_timeout_ms=self._request_timeout_ms,
            # Notice re-created topics soon after a broker lost them.
            metadata_max_age_ms=5_000,
        )

    async def start(self) -> None:
        # No deadline of our own: a consumer given up on mid-join leaves the group, which
        # makes every other member rebalance again (a storm with several joining at once).
        try:
            await self._consumer.start()
        except (KafkaError, OSError) as exc:
            with contextlib.suppress(Exception):
                await self._consumer.stop()
            # An aiokafka consumer starts once: the next try needs a new one.
            self._consumer = self._build()
            raise BusUnavailable(f"cannot join the consumer group: {exc!r}") from exc

    async def poll(self, timeout: float, max_records: int = 1) -> list[Record]:
        """The next records of unpaused partitions (none after timeout seconds)."""
        try:
            batches = await self._consumer.getmany(
                timeout_ms=int(timeout * 1000), max_records=max_records
            )
        except KafkaError as exc:
            raise BusUnavailable(f"poll failed: {exc!r}") from exc
        return [
            Record(
                m.topic,
                m.partition,
                m.offset,
                m.key.decode(errors="replace") if m.key is not None else None,
                m.value or b"",
            )
            for msgs in batches.values()
            for m in msgs
        ]

    def pause_all(self) -> None:
        self._consumer.pause(*self._consumer.assignment())

    def resume_all(self) -> None:
        self._consumer.resume(*self._consumer.assignment())

    def rewind(self, record: Record) -> None:
        """Deliver record again on a later poll (it was fetched but not handled)."""
        tp = TopicPartition(record.topic, record.partition)
        if tp in self._consumer.assignment():
            self._consumer.seek(tp, record.offset)

    async def commit(self, record: Record) -> None:
        tp = TopicPartition(record.topic, record.partition)
        try:
            await asyncio.wait_for(self._consumer.commit({tp: record.offset + 1}), self._timeout)
        except (KafkaError, TimeoutError) as exc:
            raise CommitFailed(f"commit of {tp}@{record.offset} failed: {exc!r}") from exc

    def assignment(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for tp in sorted(self._consumer.assignment()):
            out.setdefault(tp.topic, []).append(tp.partition)
        return out

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._consumer.stop(), self._timeout)
