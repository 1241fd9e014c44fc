from __future__ import annotations

import time

import pytest

from streamcore.security.stream_tokens import InvalidToken, StreamClaim, TokenCodec


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
