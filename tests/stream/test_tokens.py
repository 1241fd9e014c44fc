from __future__ import annotations

import time

import pytest

from streamcore.security.stream_tokens import InvalidToken, StreamClaim, TokenCodec
from streamcore.stream.playlists import resolve, rewrite_playlist


def test_round_trip_and_url_safe() -> None:
    codec = TokenCodec.from_secret("s1")
    token = codec.issue("asset1", "720p/seg_00001.ts", ttl=60, viewer="v1")
    assert all(c.isalnum() or c in "-_" for c in token)
    claim = codec.decode(token)
    assert (claim.asset_id, claim.path, claim.viewer) == ("asset1", "720p/seg_00001.ts", "v1")


def test_expired_tampered_and_foreign_tokens_fail() -> None:
    codec = TokenCodec.from_secret("s1")
    expired = codec.encode(StreamClaim("a", "master.m3u8", int(time.time()) - 1))
    with pytest.raises(InvalidToken):
        codec.decode(expired)
    good = codec.issue("a", "master.m3u8", ttl=60)
    for i in (0, len(good) // 2, len(good) - 2):
        bad = good[:i] + ("A" if good[i] != "A" else "B") + good[i + 1 :]
        with pytest.raises(InvalidToken):
            codec.decode(bad)
    with pytest.raises(InvalidToken):
        TokenCodec.from_secret("s2").decode(good)
    for junk in ("", "x", "!!!", "A" * 200):
        with pytest.raises(InvalidToken):
            codec.decode(junk)


def test_resolve_stays_inside_the_asset() -> None:
    assert resolve("master.m3u8", "720p/index.m3u8") == "720p/index.m3u8"
    assert resolve("720p/index.m3u8", "seg_00000.ts") == "720p/seg_00000.ts"
    assert resolve("720p/index.m3u8", "../master.m3u8") == "master.m3u8"
    assert resolve("master.m3u8", "../../etc/passwd") is None
    assert resolve("master.m3u8", "/etc/passwd") is None
    assert resolve("master.m3u8", "http://127.0.0.1/x.ts") is None
    assert resolve("master.m3u8", "file:///etc/passwd") is None


def test_rewrite_signs_uris_and_attributes() -> None:
    text = (
        "#EXTM3U\n"
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="s",NAME="en",URI="subs/en.m3u8"\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=2x2,CODECS="avc1.64001f"\n'
        "720p/index.m3u8\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=1\n"
        "http://evil.example/x.m3u8\n"
    )
    out = rewrite_playlist(text, "master.m3u8", lambda p: f"T({p})")
    assert 'URI="T(subs/en.m3u8)"' in out
    assert "T(720p/index.m3u8)" in out
    assert "evil" not in out
