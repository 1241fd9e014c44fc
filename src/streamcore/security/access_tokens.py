"""Access tokens: short-lived JWTs, HS256 with a key derived from the server secret.

The header carries a key id (`kid`), so a rotated secret can keep verifying tokens
signed with the previous one. Only HS256 with a known kid verifies: `alg: none`, any
other algorithm, an unknown kid, a bad signature, an expired or malformed token all
raise InvalidToken, and nothing more is said.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ALGORITHM = "HS256"
TOKEN_TYPE = "access"


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class AccessClaims:
    subject: str
    issued_at: int
    expires_at: int


def derive_key(secret: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"streamcore access tokens v1"
    ).derive(secret.encode())


def key_id(key: bytes) -> str:
    """A public name for a key that reveals nothing about it."""
    return hashlib.sha256(b"streamcore kid\x00" + key).hexdigest()[:16]


class AccessTokenCodec:
    def __init__(self, key: bytes, ttl_seconds: int, previous: Iterable[bytes] = ()) -> None:
        if len(key) < 32:
            raise ValueError("access token key must be at least 32 bytes")
        self.kid = key_id(key)
        self.ttl_seconds = ttl_seconds
        self._key = key
        self._keys = {key_id(k): k for k in (*previous, key)}

    @classmethod
    def from_secret(
        cls, secret: str, ttl_seconds: int, previous_secrets: Iterable[str] = ()
    ) -> AccessTokenCodec:
        return cls(derive_key(secret), ttl_seconds, [derive_key(s) for s in previous_secrets])

    def issue(self, subject: str, *, now: int | None = None) -> str:
        issued = int(time.time()) if now is None else now
        claims = {
            "sub": subject,
            "iat": issued,
            "exp": issued + self.ttl_seconds,
            "typ": TOKEN_TYPE,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def verify(self, token: str) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
            # Checked here too, not only by decode(algorithms=...): the kid lookup below
            # must never run for a token that names another algorithm.
            if header.get("alg") != ALGORITHM:
                raise InvalidToken("algorithm not allowed")
            key = self._keys.get(str(header.get("kid", "")))
            if key is None:
                raise InvalidToken("unknown key id")
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                options={"require": ["sub", "iat", "exp"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(type(exc).__name__) from exc
        if claims.get("typ") != TOKEN_TYPE or not isinstance(claims["sub"], str):
            raise InvalidToken("not an access token")
        return AccessClaims(claims["sub"], int(claims["iat"]), int(claims["exp"]))
