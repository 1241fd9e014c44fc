"""Chunked transcoding on object storage: each chunk's FFmpeg reads its span of the
source through a presigned URL (S3: SeaweedFS; Azure Blob: Azurite, a SAS URL), seeking
with byte ranges, and the stitched video plays from the store."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.media import make_clip
from tests.fixtures.services import LiveServer, live_server, postgres_database, server_env
from tests.helpers import create_project, decode_all, upload, wait_final

pytestmark = pytest.mark.slow

CHUNKED = {
    "STREAMCORE_MEDIA__CHUNK_THRESHOLD_SECONDS": "10",
    "STREAMCORE_MEDIA__CHUNK_SECONDS": "8",
}


@pytest.fixture(params=["s3", "azure"])
def remote_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, secret: str
) -> Iterator[LiveServer]:
    backend: str = request.param
    data_dir = tmp_path_factory.mktemp(f"chunked-{backend}")
    name = f"chk-{secrets.token_hex(4)}"
    with contextlib.ExitStack() as stack:
        store = request.getfixturevalue("s3_server" if backend == "s3" else "azure_server")
        db_url = stack.enter_context(postgres_database())
        env = server_env(data_dir, db_url, secret, **CHUNKED, **store.env(name))
        yield stack.enter_context(live_server(data_dir, env))


def test_chunks_read_their_span_from_object_storage(
    remote_server: LiveServer, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "c.mp4", seconds=24, size="640x360")
    with httpx.Client(
        base_url=remote_server.base_url, timeout=60, headers=remote_server.auth_headers
    ) as client:
        video = wait_final(client, upload(client, create_project(client), clip)["id"], 180)
        assert video["status"] == "ready", (video, remote_server.log_tail())
        jobs = client.get(
            "/admin/jobs", params={"video_id": video["id"]}, headers=remote_server.admin_headers
        ).json()
        assert [j["kind"] for j in jobs].count("transcode_chunk") == 4
        decode_all(video["playback_url"])
        mp4 = client.get(video["derivatives"]["mp4"])
        assert mp4.status_code == 200
