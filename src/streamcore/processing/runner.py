"""Runs jobs: claims them, keeps their lease alive, and writes the outcome.

The outcome of an attempt (job row + asset row + any next job) is written in one
transaction, fenced by (worker_id, attempt) so a worker that lost its lease can never
overwrite the work of the one that took the job over. A stop request fences the same
way: once `cancel_requested` is set, the handler can no longer commit, and a cancel
signal for a job this runner holds sets its `ctx.cancel` at once.

Jobs come from the jobs table (`run`, embedded mode) or by id from bus messages
(`claim` + `execute`, Kafka mode): the row decides, so a message for a job that is
finished, cancelled, not yet due or running elsewhere does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import anyio.to_thread
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.adapters.ffmpeg import FFmpegCancelled
from streamcore.adapters.storage.base import StorageUnavailable
from streamcore.db.base import utcnow
from streamcore.infra import Infra
from streamcore.media.failures import Failure
from streamcore.models import Job, JobKind, JobStatus
from streamcore.processing.repository import JobRepository
from streamcore.processing.specs import JobRegistry, ProgressHook

log = structlog.get_logger(__name__)

PROGRESS_MIN_INTERVAL = 1.0
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 300.0
# Outages of our own storage, database or network given back as attempts, with their
# own backoff: about 17 minutes of outage at the default 2 s base and 300 s cap.
MAX_OUTAGES = 10


class LostLease(Exception):
    """The job was taken over by another worker (or finished) while this one ran it."""


class JobCancelled(Exception):
    pass


@dataclass
class JobContext:
    infra: Infra
    job_id: str
    asset_id: str
    kind: JobKind
    attempt: int
    worker_id: str
    work_dir: Path
    on_progress: ProgressHook | None = None
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    _last_progress: float = 0.0
    _last_progress_at: float = 0.0
    _started_at: float = field(default_factory=time.monotonic)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A transaction that only commits while this worker still owns the job."""
        async with self.infra.transaction() as session:
            job = await JobRepository(session).owned(self.job_id, self.worker_id, self.attempt)
            if job is None:
                raise LostLease(self.job_id)
            if job.cancel_requested:
                raise JobCancelled(self.job_id)
            yield session

    @asynccontextmanager
    async def finish(self) -> AsyncIterator[AsyncSession]:
        """The final transaction of a successful attempt: the caller's changes and the
        job's `succeeded` commit together."""
        async with self.infra.transaction() as session:
            job = await JobRepository(session).owned(self.job_id, self.worker_id, self.attempt)
            if job is None:
                raise LostLease(self.job_id)
            if job.cancel_requested:
                raise JobCancelled(self.job_id)
            yield session
            job.status = JobStatus.succeeded
            job.progress = 1.0
            job.finished_at = utcnow()

    async def report(self, fraction: float, *, force: bool = False) -> None:
        """Store progress and an ETA, at most once a second, and push them to listeners;
        sets `cancel` when a stop was asked."""
        now = time.monotonic()
        if not force and (
            now - self._last_progress_at < PROGRESS_MIN_INTERVAL or fraction <= self._last_progress
        ):
            return
        self._last_progress, self._last_progress_at = fraction, now
        elapsed = now - self._started_at
        eta = round(elapsed * (1 - fraction) / fraction, 1) if fraction > 0.01 else None
        async with self.infra.transaction() as session:
            cancel = await JobRepository(session).set_progress(self.job_id, fraction)
            if self.on_progress is not None:
                await self.on_progress(session, self.asset_id, fraction, eta)
        if cancel:
            self.cancel.set()


def backoff_seconds(
    attempt: int, base: float = BACKOFF_BASE_SECONDS, maximum: float = BACKOFF_MAX_SECONDS
) -> float:
    """Exponential backoff with jitter: uniform in the upper half of base * 2**(n-1)."""
    ceiling = min(maximum, base * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)


class JobRunner:
    def __init__(
        self,
        infra: Infra,
        specs: JobRegistry,
        *,
        worker_id: str | None = None,
    ) -> None:
        self.infra = infra
        self.specs = specs
        self.worker_id = worker_id or f"worker-{uuid.uuid4().hex[:8]}"
        self.settings = infra.settings.worker
        self._last_reclaim = 0.0
        self.running: dict[str, JobContext] = {}
        self._unsubscribe: Callable[[], None] | None = None

    def listen_for_cancel(self) -> None:
        """Map cancel signals for jobs this runner holds to their ctx.cancel."""
        if self._unsubscribe is None:
            self._unsubscribe = self.infra.signals.on_cancel(self._on_cancel)

    def _on_cancel(self, job_id: str) -> None:
        ctx = self.running.get(job_id)
        if ctx is not None:
            log.info("job.cancel_signal", job_id=job_id)
            ctx.cancel.set()

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker.started", worker_id=self.worker_id, concurrency=self.settings.concurrency)
        self.listen_for_cancel()
        loops = [
            asyncio.create_task(self._loop(stop), name=f"job-loop-{i}")
            for i in range(self.settings.concurrency)
        ]
        try:
            await asyncio.gather(*loops)
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            self.close()
            log.info("worker.stopped", worker_id=self.worker_id)

    async def _loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.reclaim_stale()
                job = await self._claim()
            except Exception:
                log.exception("worker.claim_failed")
                await asyncio.sleep(self.infra.settings.bus.poll_interval_seconds)
                continue
            if job is None:
                await self.infra.bus.wait(self.infra.settings.bus.poll_interval_seconds)
                continue
            await self.execute(job)

    async def run_until_idle(self, timeout: float = 60.0) -> int:
        """Run queued jobs until none is due (for tests and one-shot CLI use)."""
        done = 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = await self._claim()
            if job is None:
                return done
            await self.execute(job)
            done += 1
        return done

    async def _claim(self) -> Job | None:
        async with self.infra.transaction() as session:
            return await JobRepository(session).claim_next(self.worker_id, list(self.specs))

    async def claim(self, job_id: str) -> Job | None:
        """Take the job a bus message names, if it is queued and due."""
        async with self.infra.transaction() as session:
            return await JobRepository(session).claim(job_id, self.worker_id)

    async def reclaim_stale(self) -> None:
        """Give jobs of dead workers back to the queue (or bury them when out of tries;
        or finish their cancel when a stop was asked)."""
        now = time.monotonic()
        if now - self._last_reclaim < self.settings.lease_seconds / 4:
            return
        self._last_reclaim = now
        cancelled: list[Job] = []
        async with self.infra.transaction() as session:
            for job in await JobRepository(session).stale_running(self.settings.lease_seconds):
                log.warning("job.lease_expired", job_id=job.id, worker_id=job.worker_id)
                if job.cancel_requested:
                    if await self._cancel_row(session, job):
                        cancelled.append(job)
                elif job.attempts >= job.max_attempts:
                    await self._bury(session, job, "WorkerLost", "the worker running it stopped")
                else:
                    JobRepository.requeue(job, utcnow())
                    await self._retrying(
                        session, job, "WorkerLost", "the worker running it stopped"
                    )
        for job in cancelled:
            await self._delete_outputs(job.kind, job.asset_id)

    async def _retrying(self, session: AsyncSession, job: Job, error_class: str, msg: str) -> None:
        """The job goes back to the queue for another attempt: its spec says so."""
        hook = self.specs[job.kind].on_retry
        if hook is not None:
            await hook(session, job, error_class, msg)

    async def _bury(self, session: AsyncSession, job: Job, error_class: str, msg: str) -> None:
        """Out of tries: `dead`, and (Kafka mode) the relay owes it a DLQ record."""
        job.status = JobStatus.dead
        job.last_error = f"{error_class}: {msg}"[:4000]
        job.error_class = error_class[:64]
        job.worker_id = None
        job.finished_at = utcnow()
        job.published_at = None
        await self.specs[job.kind].on_failure(session, job, error_class, msg)

    async def execute(self, job: Job) -> None:
        work_dir = self.infra.settings.data_dir / "work" / f"{job.id}-{job.attempts}"
        ctx = JobContext(
            infra=self.infra,
            job_id=job.id,
            asset_id=job.asset_id,
            kind=job.kind,
            attempt=job.attempts,
            worker_id=self.worker_id,
            work_dir=work_dir,
            on_progress=self.specs[job.kind].on_progress,
        )
        metrics = self.infra.metrics
        started = time.monotonic()
        with structlog.contextvars.bound_contextvars(
            job_id=job.id, asset_id=job.asset_id, kind=job.kind.value, attempt=job.attempts
        ):
            log.info("job.started")
            metrics.jobs_running.labels(job.kind.value).inc()
            self.listen_for_cancel()
            self.running[job.id] = ctx
            heartbeat = asyncio.create_task(self._heartbeat(ctx))
            # Stays so only when the worker is stopped mid-job (CancelledError).
            outcome, error_class = "released", ""
            try:
                outcome, error_class = await self._attempt(job, ctx)
            finally:
                self.running.pop(job.id, None)
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat
                metrics.jobs_running.labels(job.kind.value).dec()
                metrics.job_duration.labels(job.kind.value).observe(time.monotonic() - started)
                metrics.jobs_finished.labels(job.kind.value, outcome, error_class).inc()
                await _remove_tree(work_dir)
            log.info("job.finished", outcome=outcome, seconds=round(time.monotonic() - started, 2))

    async def _attempt(self, job: Job, ctx: JobContext) -> tuple[str, str]:
        """Run the handler and record how the attempt ended: (outcome, error class)."""
        try:
            if job.cancel_requested:
                raise JobCancelled(job.id)
            ctx.work_dir.mkdir(parents=True, exist_ok=True)
            await self.specs[job.kind].run(ctx)
            return "succeeded", ""
        except asyncio.CancelledError:
            # The worker is stopping: give the job back at once, not after the lease.
            await asyncio.shield(self._release(ctx))
            raise
        except LostLease:
            log.warning("job.lost_lease")
            return "lost", "LostLease"
        except (JobCancelled, FFmpegCancelled):
            await self._record_cancel(ctx)
            return "cancelled", "Cancelled"
        except Failure as exc:
            if exc.permanent:
                log.info("job.failed", error_class=exc.name, error=str(exc))
                await self._record_failure(ctx, exc.name, str(exc), permanent=True)
                return "failed", exc.name
            log.warning("job.transient_error", error_class=exc.name, error=str(exc))
            await self._record_failure(ctx, exc.name, str(exc), permanent=False)
            return "retry", exc.name
        except (StorageUnavailable, OSError, TimeoutError) as exc:
            error_class = type(exc).__name__
            log.warning("job.transient_error", error_class=error_class, error=str(exc))
            await self._record_failure(ctx, error_class, str(exc), permanent=False, outage=True)
            return "retry", error_class
        except Exception as exc:
            # A bug or something unforeseen: retried like a transient error, so a
            # one-off does not fail the asset, but bounded by max_attempts.
            log.exception("job.crashed")
            await self._record_failure(ctx, type(exc).__name__, str(exc), permanent=False)
            return "retry", type(exc).__name__

    async def _heartbeat(self, ctx: JobContext) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_seconds)
            try:
                async with self.infra.transaction() as session:
                    owned = await JobRepository(session).heartbeat(
                        ctx.job_id, ctx.worker_id, ctx.attempt
                    )
                if owned is None or owned:
                    # Lost the job, or a stop was asked (the signal may have been missed).
                    ctx.cancel.set()
                    return
            except Exception:
                log.warning("job.heartbeat_failed", exc_info=True)

    async def _record_failure(
        self,
        ctx: JobContext,
        error_class: str,
        message: str,
        *,
        permanent: bool,
        outage: bool = False,
    ) -> None:
        cancelled = False
        try:
            async with self.infra.transaction() as session:
                job = await JobRepository(session).owned(ctx.job_id, ctx.worker_id, ctx.attempt)
                if job is None:
                    return
                if job.cancel_requested:
                    # Stopped while failing: a stop wins over a retry.
                    cancelled = await self._cancel_row(session, job)
                    return
                job.last_error = f"{error_class}: {message}"[:4000]
                job.error_class = error_class[:64]
                job.worker_id = None
                if outage and job.outages < MAX_OUTAGES:
                    # Our infrastructure, not the job: the attempt is given back.
                    job.outages += 1
                    job.attempts = max(0, job.attempts - 1)
                    await self._retry_later(session, job, job.outages, error_class, message)
                    return
                if not permanent and job.attempts < job.max_attempts:
                    await self._retry_later(session, job, job.attempts, error_class, message)
                    return
                if permanent:
                    job.status = JobStatus.failed
                    job.finished_at = utcnow()
                    await self.specs[job.kind].on_failure(session, job, error_class, message)
                else:
                    await self._bury(session, job, error_class, message)
        except Exception:
            log.exception("job.record_failure_failed")
        if cancelled:
            await self._delete_outputs(ctx.kind, ctx.asset_id)

    async def _retry_later(
        self, session: AsyncSession, job: Job, tries: int, error_class: str, message: str
    ) -> None:
        """Back to the queue after the backoff of try number `tries`."""
        delay = backoff_seconds(
            tries, self.settings.backoff_base_seconds, self.settings.backoff_max_seconds
        )
        JobRepository.requeue(job, utcnow() + timedelta(seconds=delay))
        await self._retrying(session, job, error_class, message)

    async def _release(self, ctx: JobContext) -> None:
        """Back to the queue without spending an attempt (a graceful worker stop)."""
        try:
            async with self.infra.transaction() as session:
                job = await JobRepository(session).owned(ctx.job_id, ctx.worker_id, ctx.attempt)
                if job is not None:
                    JobRepository.requeue(job, utcnow())
                    job.attempts = max(0, job.attempts - 1)
            log.info("job.released")
        except Exception:
            log.warning("job.release_failed", exc_info=True)

    async def _record_cancel(self, ctx: JobContext) -> None:
        async with self.infra.transaction() as session:
            job = await JobRepository(session).owned(ctx.job_id, ctx.worker_id, ctx.attempt)
            if job is None:
                return
            delete = await self._cancel_row(session, job)
        if delete:
            await self._delete_outputs(ctx.kind, ctx.asset_id)
        log.info("job.cancelled")

    async def _cancel_row(self, session: AsyncSession, job: Job) -> bool:
        """Mark a job cancelled and, through its spec, what it worked on; True when
        its partial outputs are to be removed."""
        job.status = JobStatus.cancelled
        job.worker_id = None
        job.finished_at = utcnow()
        return await self.specs[job.kind].on_cancel(session, job)

    async def _delete_outputs(self, kind: JobKind, asset_id: str) -> None:
        """Partial outputs of a stopped run, as its spec names them."""
        for prefix in self.specs[kind].outputs(asset_id):
            await self.infra.storage.delete_prefix(prefix)


async def _remove_tree(path: Path) -> None:
    await anyio.to_thread.run_sync(lambda: shutil.rmtree(path, ignore_errors=True))
