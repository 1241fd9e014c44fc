"""The bus seam: what every bus does (wake the workers after a commit, health, close),
and the capability only a message broker has (publish records to topics, run consumer
groups, report their lag). Callers ask `bus.broker` instead of checking the class:

    Bus.broker is None   jobs stay in the jobs table; workers poll it (embedded mode)
    Bus.broker is set    an outbox relay publishes rows; consumers claim by job id

Errors, translated from the vendor's at each adapter:

    BusError
      ├── BusUnavailable   the broker cannot be reached or did not answer in time
      └── CommitFailed     an offset could not be committed (the partition moved to
                           another consumer, or the broker is gone): the record will
                           be delivered again
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


class BusError(Exception):
    pass


class BusUnavailable(BusError):
    pass


class CommitFailed(BusError):
    pass


@dataclass(frozen=True)
class Outgoing:
    topic: str
    key: str
    value: bytes


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes


@dataclass(frozen=True)
class ConsumerOptions:
    session_timeout_ms: int = 30_000
    heartbeat_interval_ms: int = 3_000
    max_poll_interval_ms: int = 3_600_000
    rebalance_timeout_ms: int = 60_000
    request_timeout_ms: int = 15_000


# Lag of a consumer group: topic -> partition -> records not yet committed.
Lag = dict[str, dict[int, int]]
# topic -> partition -> (committed position, log end offset).
Offsets = dict[str, dict[int, tuple[int, int]]]


class Consumer(Protocol):
    """One member of a consumer group with manual commits."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def poll(self, timeout: float, max_records: int = 1) -> list[Record]: ...
    async def commit(self, record: Record) -> None: ...
    def assignment(self) -> dict[str, list[int]]: ...
    def pause_all(self) -> None: ...
    def resume_all(self) -> None: ...
    def rewind(self, record: Record) -> None: ...


async def commit_batch(consumer: Consumer, records: list[Record]) -> None:
    """Commit a handled batch: the last record of each partition."""
    last: dict[tuple[str, int], Record] = {}
    for record in records:
        last[(record.topic, record.partition)] = record
    for record in last.values():
        await consumer.commit(record)


def rewind_batch(consumer: Consumer, records: list[Record]) -> None:
    """Deliver a batch whose handling failed again: back to the first record of each
    partition."""
    firsts: dict[tuple[str, int], Record] = {}
    for record in records:
        firsts.setdefault((record.topic, record.partition), record)
    for record in firsts.values():
        consumer.rewind(record)


class Broker(Protocol):
    """Publishing and consuming records on topics, and lag readings."""

    async def send(self, messages: Sequence[Outgoing]) -> None: ...
    async def ensure_topics(
        self, partitions: Mapping[str, int], replication_factor: int = 1
    ) -> list[str]: ...
    async def offsets(self, group_id: str, topics: Sequence[str]) -> Offsets: ...
    async def lag(self, group_id: str, topics: Sequence[str]) -> Lag: ...
    def consumer(
        self, topics: Sequence[str], group_id: str, options: ConsumerOptions
    ) -> Consumer: ...


class Bus(Protocol):
    name: str

    @property
    def broker(self) -> Broker | None:
        """The broker behind this bus; None when jobs only live in the database."""
        ...

    async def notify(self, job_ids: Sequence[str]) -> None:
        """Jobs were committed in this process: wake whoever hands them out."""
        ...

    async def wait(self, timeout: float) -> None:
        """Return when jobs were committed in this process or after timeout seconds."""
        ...

    async def check(self) -> None: ...
    async def close(self) -> None: ...
