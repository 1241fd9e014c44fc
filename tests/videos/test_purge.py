"""DELETE of a video on every storage backend: playback stops at once, the purge job
empties the asset's prefix (with unfinished multipart uploads, uncommitted Azure
blocks and tus chunks), and the video ends a tombstone. Every listing here is the
backend's own (boto/azure SDK or the directory), not the adapter under test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiobotocore.session import get_session
from azure.storage.blob.aio import ContainerClient
from sqlalchemy import select

from streamcore.adapters.storage.azure import AzureBlobStorage
from streamcore.adapters.storage.base import ObjectStorage
from streamcore.adapters.storage.local import LocalStorage
from streamcore.adapters.storage.s3 import S3Storage
from streamcore.db.base import new_id
from streamcore.infra import Infra
from streamcore.models import (
    AssetSource,
    AssetStatus,
    Job,
    JobKind,
    JobStatus,
    OutboxEvent,
    Upload,
    UploadMethod,
    UploadState,
)
from streamcore.processing.runner import JobRunner
from streamcore.projects import service as projects
from streamcore.stream import service as stream
from streamcore.videos import deletion, layout
from streamcore.videos import service as videos
from streamcore.videos.schemas import VideoDescription
from streamcore.worker import job_registry
from tests.fixtures.object_stores import AZURITE_ACCOUNT, AZURITE_KEY, AzureServer, S3Server

SEGMENTS = 40


@pytest.fixture(params=["local", "s3", "azure"])
async def store(
    request: pytest.FixtureRequest, infra: Infra, tmp_path: Path
) -> AsyncIterator[tuple[str, ObjectStorage]]:
    """The infra's storage swapped for one backend, in a bucket of this test."""
    database = infra.engine.dialect.name
    if (request.param == "s3") != (database == "postgresql"):
        # CI time: the purge does not depend on the database, so each backend runs on
        # one (S3 on PostgreSQL, local disk and Azure on SQLite), as deployed together.
        pytest.skip(f"{request.param} storage is covered on the other database")
    name = f"purge-{uuid.uuid4().hex[:10]}"
    backend: ObjectStorage
    if request.param == "local":
        backend = LocalStorage(tmp_path / "objects")
    elif request.param == "s3":
        s3: S3Server = request.getfixturevalue("s3_server")
        backend = S3Storage(s3.config(bucket=name, create_bucket=True))
    else:
        az: AzureServer = request.getfixturevalue("azure_server")
        backend = AzureBlobStorage(az.config(container=name, create_container=True))
    infra.storage = backend
    try:
        yield request.param, backend
    finally:
        await backend.close()


async def listed(request: pytest.FixtureRequest, backend: ObjectStorage, prefix: str) -> list[str]:
    """What the backend itself holds under prefix: objects, multipart uploads, blobs
    with uncommitted blocks only."""
    if isinstance(backend, LocalStorage):
        base = backend.root / prefix
        return [str(p) for p in base.rglob("*")] if base.exists() else []
    if isinstance(backend, S3Storage):
        s3: S3Server = request.getfixturevalue("s3_server")
        async with get_session().create_client(
            "s3",
            endpoint_url=s3.endpoint_url,
            aws_access_key_id=s3.access_key,
            aws_secret_access_key=s3.secret_key,
            region_name="us-east-1",
        ) as client:
            objects = await client.list_objects_v2(Bucket=backend.bucket, Prefix=prefix)
            uploads = await client.list_multipart_uploads(Bucket=backend.bucket, Prefix=prefix)
        return [o["Key"] for o in objects.get("Contents", [])] + [
            f"multipart:{u['Key']}" for u in uploads.get("Uploads", [])
        ]
    assert isinstance(backend, AzureBlobStorage)
    az: AzureServer = request.getfixturevalue("azure_server")
    container = ContainerClient(
        az.account_url,
        backend.config.container,
        credential={"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY},
    )
    async with container:
        return [
            b.name
            async for b in container.list_blobs(
                name_starts_with=prefix, include=["uncommittedblobs"]
            )
        ]


async def fill(kind: str, backend: ObjectStorage, asset_id: str) -> None:
    """Everything a video leaves: outputs, its source, and an unfinished upload."""
    await backend.put_bytes(layout.source_key(asset_id), b"source bytes")
    await backend.put_bytes(layout.master_key(asset_id), b"#EXTM3U\n")
    for i in range(SEGMENTS):
        await backend.put_bytes(layout.key(asset_id, f"hls/360p/seg_{i:05d}.ts"), b"x" * 100)
    await backend.put_bytes(layout.key(asset_id, "derivatives/audio.mp3"), b"mp3")
    if kind == "local":
        return
    # A presigned multipart upload of a second source with one part sent, not completed.
    key = layout.key(asset_id, "incoming")
    upload_id = await backend.create_multipart(key)
    part = await backend.presign_part(key, upload_id, 1, expires_in=300)
    async with httpx.AsyncClient() as http:
        resp = await http.put(part.url, content=b"p" * 1024, headers=part.headers)
        assert resp.status_code in (200, 201), resp.text


async def test_delete_purges_every_object_and_leaves_a_tombstone(
    request: pytest.FixtureRequest, infra: Infra, store: tuple[str, ObjectStorage]
) -> None:
    kind, backend = store
    async with infra.transaction() as s:
        project = await projects.create_project(s, "purge")
        asset = await videos.create_asset(
            s,
            project_id=project.id,
            source=AssetSource.upload,
            description=VideoDescription(passthrough="pt-1", external_id="ext-1"),
        )
        asset.status = AssetStatus.ready  # setup: a finished video
        asset.playback_key = layout.master_key(asset.id)
        # An unfinished tus upload of it with a chunk stored.
        tus = Upload(
            id=new_id(), asset_id=asset.id, project_id=project.id, method=UploadMethod.tus,
            state=UploadState.open, key=asset.source_key, size_bytes=10, chunk_keys=[],
            meta={}, principal="t", expires_at=asset.created_at,
        )  # fmt: skip
        s.add(tus)
    prefix = layout.asset_prefix(asset.id)
    await fill(kind, backend, asset.id)
    tus_chunk = f"uploads/tus/{tus.id}/000000000000000-abcd"
    await backend.put_bytes(tus_chunk, b"chunk")
    before = await listed(request, backend, prefix + "/")
    assert len(before) >= SEGMENTS + 3
    if kind != "local":
        # The unfinished upload is there (S3: a multipart upload; Azure: a blob with
        # uncommitted blocks only).
        assert any(k.endswith(f"{asset.id}/incoming") for k in before), before

    # A playback URL issued before the delete, valid for an hour.
    segment = stream.signed_name(infra, asset.id, "hls/360p/seg_00000.ts", ttl=3600)
    playback = stream.Playback(infra)
    await playback.start()
    try:
        assert (await playback.answer(segment, {}))[1].status in (200, 302)
        async with infra.transaction() as s:
            await deletion.delete_video(s, asset.id)
        # At once: the answer a moment ago is not reused.
        assert (await playback.answer(segment, {}))[1].status == 404
        master = stream.signed_name(infra, asset.id, layout.MASTER_PATH, ttl=3600)
        assert (await playback.answer(master, {}))[1].status == 404
        # A process that never saw the event asks the database.
        fresh = stream.Playback(infra)
        assert (await fresh.answer(segment, {}))[1].status == 404
    finally:
        await playback.stop()

    assert await JobRunner(infra, job_registry()).run_until_idle(timeout=60) == 1
    assert await listed(request, backend, prefix + "/") == []
    assert await listed(request, backend, f"uploads/tus/{tus.id}/") == []

    async with infra.transaction() as s:
        after = await videos.get_asset(s, asset.id)
        jobs = (await s.execute(select(Job).where(Job.asset_id == asset.id))).scalars().all()
        events = (
            (await s.execute(select(OutboxEvent).where(OutboxEvent.key == asset.id)))
            .scalars()
            .all()
        )
        upload = await s.get(Upload, tus.id)
    assert after.status is AssetStatus.deleted
    assert after.deleted_at is not None
    assert [(j.kind, j.status) for j in jobs] == [(JobKind.purge, JobStatus.succeeded)]
    assert upload is not None
    assert upload.state is UploadState.aborted
    deleted = [e.payload for e in events if e.payload["type"] == "video.deleted"]
    assert len(deleted) == 1
    assert deleted[0]["data"]["passthrough"] == "pt-1"
    assert deleted[0]["data"]["external_id"] == "ext-1"
    assert deleted[0]["data"]["deleted_at"] is not None
    # The tombstone gives its external_id back to the project.
    async with infra.transaction() as s:
        again = await videos.create_asset(
            s,
            project_id=project.id,
            source=AssetSource.upload,
            description=VideoDescription(external_id="ext-1"),
        )
    assert again.external_id == "ext-1"


async def test_deleting_again_changes_nothing(infra: Infra) -> None:
    async with infra.transaction() as s:
        project = await projects.create_project(s, "twice")
        asset = await videos.create_asset(s, project_id=project.id, source=AssetSource.upload)
    async with infra.transaction() as s:
        first = await deletion.delete_video(s, asset.id)
        assert first.status is AssetStatus.deleting
    async with infra.transaction() as s:
        second = await deletion.delete_video(s, asset.id)
        assert second.status is AssetStatus.deleting
        jobs = (await s.execute(select(Job).where(Job.asset_id == asset.id))).scalars().all()
    assert [(j.kind, j.status) for j in jobs] == [(JobKind.purge, JobStatus.queued)]
