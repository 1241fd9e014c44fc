"""Abandoned uploads are swept: bytes deleted, upload aborted, video UploadExpired;
uploads still in time and finished ones are left alone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import update

from streamcore.db.base import utcnow
from streamcore.infra import Infra
from streamcore.models import Asset, AssetStatus, Upload, UploadState
from streamcore.projects import service as projects
from streamcore.sessions import recordings
from streamcore.sessions import service as sessions
from streamcore.uploads import tus
from streamcore.uploads.cleanup import sweep_abandoned
from streamcore.videos import layout
from streamcore.videos import service as videos
from tests.fixtures.services import live_server, server_env
from tests.helpers import create_project, wait_final
from tests.uploads.helpers import TUS, create


async def open_tus_upload(infra: Infra, project_id: str) -> Upload:
    async with infra.transaction() as s:
        upload = await tus.create(
            infra, s, length=10, meta={"project_id": project_id}, principal="test"
        )
        chunk = f"{layout.asset_prefix(upload.asset_id)}/tus/000000"
        upload.chunk_keys = [chunk]
    await infra.storage.put_bytes(chunk, b"first half")
    return upload


async def age(
    infra: Infra, model: type[Upload] | type[Asset], row_id: str, **values: object
) -> None:
    async with infra.transaction() as s:
        await s.execute(update(model).where(model.id == row_id).values(**values))


async def test_expired_uploads_and_stale_takes_are_swept(infra: Infra) -> None:
    async with infra.transaction() as s:
        project = await projects.create_project(s, "sweep")
        rec = await sessions.create_session(s, project.id, "call")
        take = await recordings.start_take(s, project.id, rec.id, "take")
        fresh_take = await recordings.start_take(s, project.id, rec.id, "take 2")
    await infra.storage.put_bytes(recordings.chunk_key(take.id, 0), b"webm")
    await infra.storage.put_bytes(recordings.chunk_key(fresh_take.id, 0), b"webm")
    expired = await open_tus_upload(infra, project.id)
    in_time = await open_tus_upload(infra, project.id)
    grace = infra.settings.upload.abandoned_grace_seconds
    await age(infra, Upload, expired.id, expires_at=utcnow() - timedelta(seconds=grace + 60))
    idle = infra.settings.upload.recording_idle_seconds
    await age(infra, Asset, take.id, updated_at=utcnow() - timedelta(seconds=idle + 60))

    assert await sweep_abandoned(infra) == 2
    assert await sweep_abandoned(infra) == 0  # once

    async with infra.transaction() as s:
        gone = await s.get(Upload, expired.id)
        kept = await s.get(Upload, in_time.id)
        assert gone is not None
        assert kept is not None
        assert (gone.state, gone.chunk_keys) == (UploadState.aborted, [])
        assert kept.state is UploadState.open
        for asset_id, status in (
            (expired.asset_id, AssetStatus.failed),
            (take.id, AssetStatus.failed),
            (in_time.asset_id, AssetStatus.awaiting_upload),
            (fresh_take.id, AssetStatus.awaiting_upload),
        ):
            asset = await videos.get_asset(s, asset_id)
            assert asset.status is status
            if status is AssetStatus.failed:
                assert asset.error_class == "UploadExpired"
    assert not await infra.storage.exists(expired.chunk_keys[0])
    assert await infra.storage.exists(in_time.chunk_keys[0])
    assert not await infra.storage.exists(recordings.chunk_key(take.id, 0))
    assert await infra.storage.exists(recordings.chunk_key(fresh_take.id, 0))


def test_the_worker_sweeps_an_abandoned_tus_upload(tmp_path: Path, secret: str) -> None:
    env = server_env(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        secret,
        # Long enough for the first PATCH to land on a loaded machine (at 1 s it once
        # came after the expiry and got 410), short enough for the sweep to follow.
        STREAMCORE_UPLOAD__TUS_EXPIRY_SECONDS="4",
        STREAMCORE_UPLOAD__ABANDONED_GRACE_SECONDS="0",
        STREAMCORE_UPLOAD__SWEEP_INTERVAL_SECONDS="0.5",
    )
    with (
        live_server(tmp_path, env) as srv,
        httpx.Client(base_url=srv.base_url, timeout=30, headers=srv.auth_headers) as client,
    ):
        project = create_project(client)
        url = create(client, project, 1000)
        resp = client.patch(
            url,
            content=b"x" * 400,
            headers={
                **TUS,
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert resp.status_code == 204
        video_id = resp.headers["x-asset-id"]
        stored = [p for p in (tmp_path / "objects").rglob("*") if p.is_file()]
        assert sum(p.stat().st_size for p in stored) == 400  # the first 400 bytes
        video = wait_final(client, video_id, timeout=30)
        assert video["status"] == "failed"
        assert video["error"]["class"] == "UploadExpired"
        assert [p for p in (tmp_path / "objects").rglob("*") if p.is_file()] == []
