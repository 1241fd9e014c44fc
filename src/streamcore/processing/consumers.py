"""Kafka-mode workers: consumers in one group feed the JobRunner by job id.

Each consumer takes one record at a time. It claims the job the record names (the row
decides: a finished, cancelled, not-yet-due or running-elsewhere job is skipped), runs
it in a task while its partitions are paused and it keeps polling (so a long FFmpeg run
never costs it its place in the group), and commits the offset only once the job row is
final or re-queued. A pool keeps between min and max consumers per worker: one more
while the group's lag grows (or would not drain in time), one fewer when idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from streamcore.adapters.bus.base import (
    Broker,
    BusUnavailable,
    CommitFailed,
    Consumer,
    ConsumerOptions,
    Record,
)
from streamcore.config import BusSettings
from streamcore.processing.relay import Topics, decode
from streamcore.processing.runner import JobRunner

log = structlog.get_logger(__name__)

BUSY_POLL_SECONDS = 1.0
RETRY_SECONDS = 1.0


def consumer_options(settings: BusSettings) -> ConsumerOptions:
    return ConsumerOptions(
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.heartbeat_interval_ms,
        max_poll_interval_ms=settings.max_poll_interval_ms,
        rebalance_timeout_ms=settings.rebalance_timeout_ms,
        request_timeout_ms=settings.request_timeout_ms,
    )


class JobConsumer:
    def __init__(self, runner: JobRunner, consumer: Consumer, name: str) -> None:
        self.runner = runner
        self.consumer = consumer
        self.name = name
        self.busy = False
        self.idle_since = time.monotonic()
        self.handled = 0
        self.started = False
        self._retire = asyncio.Event()

    def retire(self) -> None:
        """Leave the group after the current job."""
        self._retire.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not (stop.is_set() or self._retire.is_set()):
            try:
                await self.consumer.start()
                break
            except BusUnavailable as exc:
                log.warning("consumer.start_failed", consumer=self.name, error=str(exc)[:200])
                await asyncio.sleep(RETRY_SECONDS)
        else:
            return
        self.started = True
        log.info("consumer.started", consumer=self.name)
        try:
            while not (stop.is_set() or self._retire.is_set()):
                try:
                    records = await self.consumer.poll(0.5, max_records=1)
                except BusUnavailable as exc:
                    log.warning("consumer.poll_failed", error=str(exc)[:200])
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                for record in records:
                    await self._handle(record)
        finally:
            await self.consumer.stop()
            log.info("consumer.stopped", consumer=self.name, handled=self.handled)

    async def _handle(self, record: Record) -> None:
        body = decode(record.value)
        if body is None:
            log.warning("consumer.bad_record", topic=record.topic, offset=record.offset)
            await self._commit(record)
            return
        job_id = str(body["job_id"])
        try:
            job = await self.runner.claim(job_id)
        except Exception:
            log.exception("consumer.claim_failed", job_id=job_id)
            self.consumer.rewind(record)
            await asyncio.sleep(RETRY_SECONDS)
            return
        if job is None:
            # Finished, cancelled, not due, or another worker has it: the row decides.
            log.debug("consumer.skip", job_id=job_id)
            await self._commit(record)
            return
        self.busy = True
        try:
            await self._execute_paused(self.runner.execute(job))
        finally:
            self.busy = False
            self.idle_since = time.monotonic()
        self.handled += 1
        await self._commit(record)

    async def _execute_paused(self, work: Awaitable[None]) -> None:
        """Run the job off the poll loop; keep polling (partitions paused) meanwhile."""
        task = asyncio.ensure_future(work)
        try:
            self.consumer.pause_all()
            while True:
                done, _ = await asyncio.wait({task}, timeout=BUSY_POLL_SECONDS)
                if done:
                    break
                with contextlib.suppress(BusUnavailable):
                    for stray in await self.consumer.poll(0):
                        self.consumer.rewind(stray)
                # A rebalance may have handed this consumer new, unpaused partitions.
                self.consumer.pause_all()
            task.result()
        except BaseException:
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
            raise
        finally:
            self.consumer.resume_all()

    async def _commit(self, record: Record) -> None:
        try:
            await self.consumer.commit(record)
        except CommitFailed as exc:
            # The record comes again (here or elsewhere) and finds the row final.
            log.info("consumer.commit_failed", error=str(exc)[:200])


@dataclass
class ScaleSample:
    at: float
    consumers: int
    lag: int


class ConsumerPool:
    def __init__(
        self,
        runner: JobRunner,
        bus: Broker,
        settings: BusSettings,
        topics: Topics,
        *,
        others: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        self.runner = runner
        self.bus = bus
        self.settings = settings
        self.topics = topics.jobs(list(runner.specs))
        self.others = others
        self.consumers: list[JobConsumer] = []
        self._tasks: dict[JobConsumer, asyncio.Task[None]] = {}
        self._stop = asyncio.Event()
        self._last_lag: int | None = None
        self._seq = 0
        self.history: list[ScaleSample] = []
        self._started = time.monotonic()

    def assignment(self) -> dict[str, list[int]]:
        merged: dict[str, list[int]] = {}
        for c in self.consumers:
            for topic, parts in c.consumer.assignment().items():
                merged.setdefault(topic, []).extend(parts)
        return {t: sorted(p) for t, p in merged.items()}

    def _add(self) -> None:
        self._seq += 1
        name = f"{self.runner.worker_id}-c{self._seq}"
        tc = self.bus.consumer(self.topics, self.settings.group_id, consumer_options(self.settings))
        consumer = JobConsumer(self.runner, tc, name)
        self.consumers.append(consumer)
        self._tasks[consumer] = asyncio.create_task(consumer.run(self._stop), name=name)

    def _remove(self, consumer: JobConsumer) -> None:
        consumer.retire()
        self.consumers.remove(consumer)

    async def run(self, stop: asyncio.Event) -> None:
        self.runner.listen_for_cancel()
        for _ in range(self.settings.min_consumers):
            self._add()
        self._record(0)
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.scale_interval_seconds)
                if not stop.is_set():
                    await self.scale()
                self._reap()
        finally:
            self._stop.set()
            # Running jobs are released back to the queue by the runner.
            for task in self._tasks.values():
                task.cancel()
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    def _reap(self) -> None:
        for consumer, task in list(self._tasks.items()):
            if task.done():
                del self._tasks[consumer]
                if consumer in self.consumers:
                    # Crashed: replace it so the pool keeps its size.
                    log.error("consumer.died", consumer=consumer.name, exc_info=task.exception())
                    self.consumers.remove(consumer)
                    self._add()

    def _record(self, lag: int) -> None:
        self.runner.infra.metrics.bus_consumers.set(len(self.consumers))
        self.history.append(
            ScaleSample(round(time.monotonic() - self._started, 1), len(self.consumers), lag)
        )

    async def _cap(self) -> int:
        """Never more consumers than partitions, counting the other workers' too."""
        others = await self.others() if self.others is not None else 0
        room = self.settings.partitions - others
        return max(self.settings.min_consumers, min(self.settings.max_consumers, room))

    async def scale(self) -> None:
        try:
            reading = await self.bus.lag(self.settings.group_id, self.topics)
        except BusUnavailable:
            return
        lag = sum(sum(parts.values()) for parts in reading.values())
        metrics = self.runner.infra.metrics
        for topic, parts in reading.items():
            metrics.bus_lag.labels(topic).set(sum(parts.values()))
        busy = sum(1 for c in self.consumers if c.busy)
        waiting = max(0, lag - busy)
        previous, self._last_lag = self._last_lag, lag
        n = len(self.consumers)
        settled = all(c.started for c in self.consumers)
        if waiting > 0 and settled and n < await self._cap():
            drained = 0 if previous is None else previous - lag
            rate = drained / self.settings.scale_interval_seconds
            if rate <= 0 or waiting / rate > self.settings.target_drain_seconds:
                self._add()
                log.info("pool.scaled_up", consumers=len(self.consumers), lag=lag)
        elif waiting == 0 and n > self.settings.min_consumers:
            now = time.monotonic()
            idle = [c for c in self.consumers if not c.busy]
            idlest = min(idle, key=lambda c: c.idle_since, default=None)
            if idlest is not None and now - idlest.idle_since >= self.settings.idle_seconds:
                self._remove(idlest)
                log.info("pool.scaled_down", consumers=len(self.consumers), lag=lag)
        self._record(lag)
