"""Access tokens verify only as HS256 JWTs signed with a key this server knows."""

from __future__ import annotations

import base64
import json
import time
import warnings
from typing import Any

import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning

from streamcore.security.access_tokens import AccessTokenCodec, InvalidToken, derive_key

codec = AccessTokenCodec.from_secret("server secret", ttl_seconds=900)


def _b64(obj: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def test_issue_and_verify_round_trip() -> None:
    now = int(time.time())
    token = codec.issue("user-1", now=now)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    assert header["kid"] == codec.kid
    claims = codec.verify(token)
    assert (claims.subject, claims.issued_at, claims.expires_at) == ("user-1", now, now + 900)


def test_key_id_names_the_key_without_revealing_it() -> None:
    other = AccessTokenCodec.from_secret("other secret", ttl_seconds=900)
    assert codec.kid != other.kid
    assert len(codec.kid) == 16
    assert codec.kid not in derive_key("server secret").hex()


def _forged(alg: str, key: bytes | str | None, **claims: Any) -> str:
    payload = {"sub": "user-1", "iat": int(time.time()), "exp": int(time.time()) + 60}
    payload |= {"typ": "access"} | claims
    with warnings.catch_warnings():
        # HS384/HS512 forgeries with a 32-byte key: PyJWT warns, which is the point.
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(payload, key, algorithm=alg, headers={"kid": codec.kid})


@pytest.mark.parametrize(
    "token",
    [
        # alg none, with and without a signature part
        f"{_b64({'alg': 'none', 'kid': codec.kid})}.{_b64({'sub': 'u', 'exp': 2**40})}.",
        f"{_b64({'alg': 'none', 'kid': codec.kid})}.{_b64({'sub': 'u', 'exp': 2**40})}",
        # the right key under another HMAC algorithm
        _forged("HS512", derive_key("server secret")),
        _forged("HS384", derive_key("server secret")),
        # a wrong key, and the raw secret instead of the derived key
        _forged("HS256", derive_key("another secret")),
        _forged("HS256", b"server secret" * 3),
        # expired, not an access token, missing claims
        _forged("HS256", derive_key("server secret"), exp=int(time.time()) - 1),
        _forged("HS256", derive_key("server secret"), typ="refresh"),
        jwt.encode({"sub": "u"}, derive_key("server secret"), "HS256", {"kid": codec.kid}),
        # malformed
        "",
        "abc",
        "a.b.c",
        codec.issue("user-1")[:-3],
        codec.issue("user-1") + "x",
    ],
)
def test_rejects(token: str) -> None:
    with pytest.raises(InvalidToken):
        codec.verify(token)


def test_unknown_kid_is_rejected() -> None:
    payload = {"sub": "u", "iat": int(time.time()), "exp": int(time.time()) + 60, "typ": "access"}
    token = jwt.encode(payload, derive_key("server secret"), "HS256", {"kid": "0" * 16})
    with pytest.raises(InvalidToken):
        codec.verify(token)


def test_a_rotated_secret_still_verifies_tokens_signed_before() -> None:
    old = AccessTokenCodec.from_secret("old secret", ttl_seconds=900)
    rotated = AccessTokenCodec.from_secret("new secret", 900, previous_secrets=["old secret"])
    assert rotated.verify(old.issue("user-1")).subject == "user-1"
    assert jwt.get_unverified_header(rotated.issue("user-1"))["kid"] == rotated.kid != old.kid
    with pytest.raises(InvalidToken):
        old.verify(rotated.issue("user-1"))
