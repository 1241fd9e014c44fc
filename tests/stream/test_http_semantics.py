"""HTTP semantics of /stream/ on every storage backend: local disk (sent zero-copy by
Granian), SeaweedFS (streamed through streamcore) and Azurite (302 to a SAS URL; the
store answers Range and If-None-Match itself): ETag/304, Range 206/416, HEAD, CORS and
content types."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.services import LiveServer
from tests.stream.conftest import Asset, put_asset

ORIGIN = "https://player.example"
SEGMENT = "hls/720p/seg_00000.ts"


@pytest.fixture
def asset(storage_server: LiveServer) -> Asset:
    return put_asset(storage_server)


@pytest.fixture
def http(storage_server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=storage_server.base_url, timeout=30, follow_redirects=True)


def is_redirect_mode(server: LiveServer) -> bool:
    return server.env.get("STREAMCORE_STREAM__REMOTE_DELIVERY") == "redirect"


def test_segment_has_type_etag_and_304(
    storage_server: LiveServer, asset: Asset, http: httpx.Client
) -> None:
    url = asset.name(SEGMENT)
    first = http.get(url, headers={"Origin": ORIGIN})
    assert first.status_code == 200
    assert first.content == asset.segment
    assert first.headers["content-type"] == "video/mp2t"
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    again = http.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = http.get(url, headers={"If-None-Match": '"not-this-one"'})
    assert other.status_code == 200
    if not is_redirect_mode(storage_server):
        # Ours (not the store's): cacheable by the browser only, until the token expires.
        assert first.headers["cache-control"].startswith("private, max-age=")
        assert first.headers["accept-ranges"] == "bytes"


def test_range_206_and_416(asset: Asset, http: httpx.Client) -> None:
    url = asset.name(SEGMENT)
    size = len(asset.segment)
    part = http.get(url, headers={"Range": "bytes=100-4195"})
    assert part.status_code == 206
    assert part.content == asset.segment[100:4196]
    assert part.headers["content-range"] == f"bytes 100-4195/{size}"
    tail = http.get(url, headers={"Range": "bytes=-500"})
    assert tail.status_code == 206
    assert tail.content == asset.segment[-500:]
    outside = http.get(url, headers={"Range": f"bytes={size + 10}-"})
    assert outside.status_code == 416
    assert outside.headers["content-range"] == f"bytes */{size}"


def test_head_answers_headers_only(asset: Asset, http: httpx.Client) -> None:
    head = http.head(asset.name(SEGMENT))
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) == len(asset.segment)
    playlist = http.head(asset.name("hls/master.m3u8"))
    assert playlist.status_code == 200
    assert playlist.content == b""
    assert playlist.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert int(playlist.headers["content-length"]) > 100


def test_cors_for_players_on_other_origins(
    storage_server: LiveServer, asset: Asset, http: httpx.Client
) -> None:
    url = asset.name(SEGMENT)
    preflight = http.options(
        url,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "range",
        },
    )
    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] in ("*", ORIGIN)
    assert "range" in preflight.headers["access-control-allow-headers"].lower()
    with httpx.Client(base_url=storage_server.base_url, timeout=30) as direct:
        answer = direct.get(url, headers={"Origin": ORIGIN, "Range": "bytes=0-9"})
    # Our own answer (the segment, or the redirect a player follows) carries CORS.
    assert answer.headers["access-control-allow-origin"] == "*"
    exposed = answer.headers["access-control-expose-headers"].lower()
    assert {"content-range", "etag", "content-length"} <= {h.strip() for h in exposed.split(",")}
    if is_redirect_mode(storage_server):
        assert answer.status_code == 302
        assert answer.headers["cache-control"] == "no-store"
    else:
        assert answer.status_code == 206


def test_playlists_are_private_no_cache_and_signed(
    storage_server: LiveServer, asset: Asset, http: httpx.Client
) -> None:
    master = http.get(asset.name("hls/master.m3u8"), headers={"Origin": ORIGIN})
    assert master.status_code == 200
    assert master.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert master.headers["cache-control"] == "private, no-cache"
    assert master.headers["access-control-allow-origin"] == "*"
    variants = [ln for ln in master.text.splitlines() if ln and not ln.startswith("#")]
    assert len(variants) == 2
    assert all(v.endswith(".m3u8") for v in variants)
    variant = http.get(f"/stream/{variants[0]}")
    assert variant.status_code == 200
    segments = [ln for ln in variant.text.splitlines() if ln and not ln.startswith("#")]
    assert len(segments) == 150
    assert http.get(f"/stream/{segments[0]}").content == asset.segment
    # The other 149 were never stored: a signed URL to a missing file is a 404 (ours,
    # or in redirect mode the store's: the redirect is made without asking the store).
    missing = http.get(f"/stream/{segments[1]}")
    assert missing.status_code == 404
    if not is_redirect_mode(storage_server):
        assert missing.json()["error"] == "NotFound"


def test_bad_tokens_and_methods(asset: Asset, http: httpx.Client) -> None:
    url = asset.name(SEGMENT)
    token = url.removeprefix("/stream/")
    flipped = ("B" if token[20] == "A" else "A").join((token[:20], token[21:]))
    for bad in (f"/stream/{flipped}", "/stream/garbage.ts", url.replace(".ts", ".m3u8")):
        resp = http.get(bad)
        assert resp.status_code == 403, bad
        assert resp.json() == {"error": "Forbidden", "detail": "invalid or expired link"}
    expired = asset.name(SEGMENT, ttl=-5)
    assert http.get(expired).status_code == 403
    post = http.post(url)
    assert post.status_code == 405
    assert "GET" in post.headers["allow"]
