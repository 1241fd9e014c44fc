"""Job runner semantics on a real database: outcome recording, retries, leases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from streamcore.adapters.storage.base import StorageUnavailable
from streamcore.db.base import utcnow
from streamcore.infra import Infra
from streamcore.media.failures import TransientError, UnsupportedMedia
from streamcore.models import AssetStatus, Job, JobKind, JobStatus
from streamcore.processing import service as processing
from streamcore.processing.runner import (
    MAX_OUTAGES,
    JobContext,
    JobRunner,
    LostLease,
    backoff_seconds,
)
from streamcore.projects import service as projects
from streamcore.videos import service as videos
from tests.seed import seed_asset, specs


async def make_job(infra: Infra, max_attempts: int = 3) -> tuple[str, str]:
    async with infra.transaction() as s:
        project = await projects.create_project(s, "runner")
        asset = await seed_asset(s, project_id=project.id, status=AssetStatus.uploaded)
        job = await processing.enqueue(s, asset.id, JobKind.ingest, max_attempts=max_attempts)
    return asset.id, job.id


async def load(infra: Infra, job_id: str) -> tuple[Job, AssetStatus, str | None]:
    async with infra.transaction() as s:
        job = await s.get(Job, job_id)
        assert job is not None
        asset = await videos.get_asset(s, job.asset_id)
        return job, asset.status, asset.error_class


async def make_due(infra: Infra, job_id: str) -> None:
    async with infra.transaction() as s:
        await s.execute(update(Job).where(Job.id == job_id).values(next_attempt_at=utcnow()))


async def test_permanent_error_fails_job_and_asset_at_once(infra: Infra) -> None:
    _, job_id = await make_job(infra)

    async def handler(ctx: JobContext) -> None:
        raise UnsupportedMedia("nope")

    runner = JobRunner(infra, specs({JobKind.ingest: handler}))
    assert await runner.run_until_idle() == 1
    job, status, error = await load(infra, job_id)
    assert (job.status, job.attempts, status, error) == (
        JobStatus.failed,
        1,
        AssetStatus.failed,
        "UnsupportedMedia",
    )


async def test_transient_error_retries_with_backoff_then_dead(infra: Infra) -> None:
    _, job_id = await make_job(infra, max_attempts=3)
    calls = 0

    async def handler(ctx: JobContext) -> None:
        nonlocal calls
        calls += 1
        raise TransientError("storage down")

    runner = JobRunner(infra, specs({JobKind.ingest: handler}))
    await runner.run_until_idle()
    job, status, error = await load(infra, job_id)
    assert job.status is JobStatus.queued
    assert job.next_attempt_at > utcnow()  # backing off, not due yet
    # The video says it waits for another attempt, and why.
    assert (status, error) == (AssetStatus.retrying, "TransientError")
    for _ in range(2):
        await make_due(infra, job_id)
        await runner.run_until_idle()
    job, status, error = await load(infra, job_id)
    assert calls == 3
    assert (job.status, job.attempts, status, error) == (
        JobStatus.dead,
        3,
        AssetStatus.failed,
        "TransientError",
    )


async def test_an_outage_of_our_storage_gives_the_attempt_back_up_to_a_bound(
    infra: Infra,
) -> None:
    """A restart of the object store is not the job's fault: it does not use up the
    job's tries (max_attempts 1 here), until MAX_OUTAGES of them."""
    _, job_id = await make_job(infra, max_attempts=1)
    calls = 0

    async def handler(ctx: JobContext) -> None:
        nonlocal calls
        calls += 1
        if calls <= 3:
            raise StorageUnavailable("S3 is unreachable")
        async with ctx.finish():
            pass

    runner = JobRunner(infra, specs({JobKind.ingest: handler}))
    for _ in range(4):
        await make_due(infra, job_id)
        await runner.run_until_idle()
    job, _status, _error = await load(infra, job_id)
    assert calls == 4
    assert (job.status, job.attempts, job.outages) == (JobStatus.succeeded, 1, 3)

    _, job_id = await make_job(infra, max_attempts=1)

    async def always_down(ctx: JobContext) -> None:
        raise StorageUnavailable("S3 is unreachable")

    runner = JobRunner(infra, specs({JobKind.ingest: always_down}))
    for _ in range(MAX_OUTAGES + 1):
        await make_due(infra, job_id)
        await runner.run_until_idle()
    job, status, error = await load(infra, job_id)
    assert (job.status, job.outages, status, error) == (
        JobStatus.dead,
        MAX_OUTAGES,
        AssetStatus.failed,
        "StorageUnavailable",
    )


def test_backoff_grows_and_is_jittered() -> None:
    firsts = {round(backoff_seconds(1), 3) for _ in range(20)}
    assert len(firsts) > 1
    assert all(1 <= b <= 2 for b in firsts)
    assert 8 <= backoff_seconds(4) <= 16
    assert backoff_seconds(30) <= 300


async def test_stale_lease_is_reclaimed_and_old_worker_is_fenced(infra: Infra) -> None:
    _, job_id = await make_job(infra)
    seen: list[str] = []

    async def handler(ctx: JobContext) -> None:
        seen.append(ctx.worker_id)
        async with ctx.finish():
            pass

    dead = JobRunner(infra, specs({JobKind.ingest: handler}), worker_id="dead-worker")
    job = await dead._claim()
    assert job is not None
    assert job.id == job_id
    # The worker "dies": no heartbeat for longer than the lease.
    async with infra.transaction() as s:
        await s.execute(
            update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow() - timedelta(hours=1))
        )
    alive = JobRunner(infra, specs({JobKind.ingest: handler}), worker_id="alive-worker")
    await alive.reclaim_stale()
    assert await alive.run_until_idle() == 1
    job2, _, _ = await load(infra, job_id)
    assert (job2.status, job2.attempts, job2.worker_id) == (JobStatus.succeeded, 2, "alive-worker")

    # The old claim can no longer write an outcome.
    ctx = JobContext(
        infra, job_id, job.asset_id, JobKind.ingest, 1, "dead-worker", infra.settings.data_dir
    )
    with pytest.raises(LostLease):
        async with ctx.finish():
            pass
    assert seen == ["alive-worker"]
