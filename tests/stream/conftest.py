"""HLS files written straight into a live server's storage (local disk, SeaweedFS or
Azurite, through the same storage adapter the server uses), and tokens signed with the
server's secret: playback tests without a transcode."""

from __future__ import annotations

import asyncio
import os
import secrets
from dataclasses import dataclass
from unittest import mock

from streamcore.config import Settings
from streamcore.infra import build_infra, build_storage
from streamcore.models import AssetSource, AssetStatus
from streamcore.projects import service as projects
from streamcore.security.stream_tokens import TokenCodec
from streamcore.videos import layout
from streamcore.videos import service as videos
from tests.fixtures.services import LiveServer

SEGMENTS = 150
MASTER_TEXT = (
    "#EXTM3U\n#EXT-X-VERSION:3\n"
    '#EXT-X-STREAM-INF:BANDWIDTH=2800000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2"\n'
    "720p/index.m3u8\n"
    '#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2"\n'
    "360p/index.m3u8\n"
)


def variant_text(segments: int = SEGMENTS) -> str:
    body = "".join(f"#EXTINF:4.000000,\nseg_{i:05d}.ts\n" for i in range(segments))
    return (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:VOD\n"
        f"{body}#EXT-X-ENDLIST\n"
    )


@dataclass
class Asset:
    id: str
    segment: bytes
    codec: TokenCodec

    def name(self, path: str, viewer: str | None = None, ttl: int = 3600) -> str:
        ext = os.path.splitext(path)[1]
        return f"/stream/{self.codec.issue(self.id, path, ttl, viewer)}{ext}"


def server_settings(server: LiveServer) -> Settings:
    """The server's own Settings, read from its environment as it reads them."""
    with mock.patch.dict(os.environ, server.env, clear=True):
        return Settings(_env_file=None)  # type: ignore[call-arg]


def put_asset(server: LiveServer, segment_bytes: int = 200_000) -> Asset:
    """A master, a 150-segment variant and one real-sized segment in the server's
    storage, under a fresh asset id."""
    settings = server_settings(server)
    asset_id = secrets.token_hex(13)
    segment = os.urandom(segment_bytes)

    async def put() -> None:
        # The video exists (and is not deleted): /stream serves only such videos.
        infra = build_infra(settings)
        try:
            async with infra.transaction() as session:
                project = await projects.create_project(session, "stream tests")
                video = await videos.create_asset(
                    session, project_id=project.id, source=AssetSource.upload, asset_id=asset_id
                )
                video.status = AssetStatus.ready  # setup: a finished video
        finally:
            await infra.close()
        storage = build_storage(settings)
        try:
            await storage.put_bytes(layout.key(asset_id, "hls/master.m3u8"), MASTER_TEXT.encode())
            for rung in ("720p", "360p"):
                key = layout.key(asset_id, f"hls/{rung}/index.m3u8")
                await storage.put_bytes(key, variant_text().encode())
            await storage.put_bytes(layout.key(asset_id, "hls/720p/seg_00000.ts"), segment)
        finally:
            await storage.close()

    asyncio.run(put())
    codec = TokenCodec.from_secret(settings.stream.token_secret or settings.resolved_secret())
    return Asset(asset_id, segment, codec)
