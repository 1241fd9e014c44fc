from __future__ import annotations

import base64
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


def test_token_names_its_key_and_old_keys_verify_after_rotation() -> None:
    old = TokenCodec.from_secret("old secret")
    token = old.issue("a", "hls/master.m3u8", ttl=60)
    assert _b64d(token)[1:5].hex() == old.kid
    # Rotated: signs with the new key, still verifies the old one's tokens.
    rotated = TokenCodec.from_secret("new secret", verify_secrets=["old secret"])
    assert rotated.kid != old.kid
    assert sorted(rotated.kids) == sorted([old.kid, rotated.kid])
    assert rotated.decode(token).path == "hls/master.m3u8"
    fresh = rotated.issue("a", "hls/master.m3u8", ttl=60)
    assert _b64d(fresh)[1:5].hex() == rotated.kid
    with pytest.raises(InvalidToken):
        old.decode(fresh)  # a node that does not have the new key yet
    # Once the old key is dropped, its tokens stop verifying.
    with pytest.raises(InvalidToken):
        TokenCodec.from_secret("new secret").decode(token)


def test_a_token_whose_kid_is_swapped_does_not_verify() -> None:
    a = TokenCodec.from_secret("a")
    both = TokenCodec.from_secret("b", verify_secrets=["a"])
    raw = bytearray(_b64d(a.issue("x", "hls/a.ts", ttl=60)))
    raw[1:5] = bytes.fromhex(both.kid)
    with pytest.raises(InvalidToken):
        both.decode(base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("="))


def test_deterministic_tokens_and_encode_many() -> None:
    codec = TokenCodec.from_secret("s")
    claim = StreamClaim("a", "hls/720p/seg_00001.ts", int(time.time()) + 60)
    assert codec.encode(claim, deterministic=True) == codec.encode(claim, deterministic=True)
    assert codec.encode(claim) != codec.encode(claim)
    paths = [f"hls/720p/seg_{i:05d}.ts" for i in range(5)]
    tokens = codec.encode_many("a", claim.expires_at, "v", [p.encode() for p in paths])
    assert [codec.decode(t) for t in tokens] == [
        StreamClaim("a", p, claim.expires_at, "v") for p in paths
    ]
    shared = codec.encode_many("a", claim.expires_at, None, [b"hls/x.ts"], deterministic=True)
    assert shared == [
        codec.encode(StreamClaim("a", "hls/x.ts", claim.expires_at), deterministic=True)
    ]


def _b64d(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def test_tokens_of_the_first_format_still_decode() -> None:
    """JSON sealed with no kid, as streamcore made them before key ids."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from streamcore.security.stream_tokens import derive_key

    body = b'{"a":"asset1","p":"hls/master.m3u8","e":%d,"v":"v1"}' % (int(time.time()) + 60)
    nonce = b"\x01" * 12
    sealed = AESGCM(derive_key("s1")).encrypt(nonce, body, b"streamcore-stream-v1")
    token = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    claim = TokenCodec.from_secret("s1").decode(token)
    assert (claim.asset_id, claim.path, claim.viewer) == ("asset1", "hls/master.m3u8", "v1")
    with pytest.raises(InvalidToken):
        TokenCodec.from_secret("s2").decode(token)
