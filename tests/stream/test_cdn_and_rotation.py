"""A live server after a stream-key rotation (signing with a new key, the old one kept
for verifying) and in CDN-cacheable mode."""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Iterator

import httpx
import pytest

from streamcore.security.stream_tokens import TokenCodec
from tests.fixtures.services import LiveServer, live_server, server_env
from tests.stream.conftest import Asset, put_asset

WINDOW = 3600
NEW_SECRET = secrets.token_urlsafe(32)


@pytest.fixture(scope="module")
def rotated(tmp_path_factory: pytest.TempPathFactory, secret: str) -> Iterator[LiveServer]:
    """Signs with NEW_SECRET; the old key (the server secret) still verifies."""
    data = tmp_path_factory.mktemp("rotated")
    env = server_env(
        data,
        f"sqlite+aiosqlite:///{data / 'streamcore.db'}",
        secret,
        STREAMCORE_STREAM__TOKEN_SECRET=NEW_SECRET,
        STREAMCORE_STREAM__VERIFY_SECRETS=f'["{secret}"]',
        STREAMCORE_STREAM__CDN_CACHEABLE="true",
        STREAMCORE_STREAM__CDN_WINDOW_SECONDS=str(WINDOW),
    )
    with live_server(data, env) as srv:
        yield srv


@pytest.fixture
def asset(rotated: LiveServer) -> Asset:
    return put_asset(rotated)


def kid_of(name: str) -> str:
    token = name.rsplit("/", 1)[-1].split(".")[0]
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))[1:5].hex()


def uris(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln and not ln.startswith("#")]


def test_an_old_key_token_still_plays_after_rotation(
    rotated: LiveServer, asset: Asset, secret: str
) -> None:
    old = TokenCodec.from_secret(secret)
    new = TokenCodec.from_secret(NEW_SECRET)
    with httpx.Client(base_url=rotated.base_url, timeout=30) as http:
        master = http.get(f"/stream/{old.issue(asset.id, 'hls/master.m3u8', 600)}.m3u8")
        assert master.status_code == 200
        # What it hands out is signed with the new key.
        assert {kid_of(u) for u in uris(master.text)} == {new.kid}
        segment = http.get(f"/stream/{old.issue(asset.id, 'hls/720p/seg_00000.ts', 600)}.ts")
        assert segment.content == asset.segment
        foreign = TokenCodec.from_secret("a key this server never had")
        gone = http.get(f"/stream/{foreign.issue(asset.id, 'hls/master.m3u8', 600)}.m3u8")
        assert gone.status_code == 403
        # The API's playback URLs carry the new key too.
        assert kid_of(asset.name("hls/master.m3u8")) == new.kid


def test_cdn_mode_gives_every_viewer_the_same_cacheable_segment_urls(
    rotated: LiveServer, asset: Asset
) -> None:
    with httpx.Client(base_url=rotated.base_url, timeout=30) as http:
        seen, variants = [], []
        for viewer in ("alice", "bob"):
            master = http.get(asset.name("hls/master.m3u8", viewer=viewer))
            assert master.headers["cache-control"] == "private, no-cache"
            variants.append(uris(master.text))
            variant = http.get(f"/stream/{variants[-1][0]}")
            assert variant.headers["cache-control"] == "private, no-cache"
            seen.append(uris(variant.text))
        # Variant playlist URLs stay per viewer; segment URLs are shared.
        assert variants[0] != variants[1]
        assert len(seen[0]) == 150
        assert seen[0] == seen[1]
        segment = http.get(f"/stream/{seen[0][0]}")
        assert segment.content == asset.segment
        control = segment.headers["cache-control"]
        match = re.fullmatch(r"public, max-age=(\d+), immutable", control)
        assert match, control
        # Expiry rounded up to the window: at most one window past the parent's.
        assert 3600 - 60 <= int(match.group(1)) <= 3600 + WINDOW
