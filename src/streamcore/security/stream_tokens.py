"""Encrypted, expiring stream paths: AES-GCM over (asset id, path, expiry, viewer).

A token is url-safe base64 of nonce(12) || ciphertext+tag. Anything that does not
decrypt, has expired or is malformed raises InvalidToken and nothing more is said.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_AAD = b"streamcore-stream-v1"


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class StreamClaim:
    asset_id: str
    path: str
    expires_at: int
    viewer: str | None = None


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenCodec:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("stream token key must be 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def from_secret(cls, secret: str) -> TokenCodec:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"streamcore stream tokens"
        ).derive(secret.encode())
        return cls(key)

    def encode(self, claim: StreamClaim) -> str:
        body = {"a": claim.asset_id, "p": claim.path, "e": claim.expires_at}
        if claim.viewer is not None:
            body["v"] = claim.viewer
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, json.dumps(body, separators=(",", ":")).encode(), _AAD)
        return _b64e(nonce + sealed)

    def issue(self, asset_id: str, path: str, ttl: int, viewer: str | None = None) -> str:
        return self.encode(StreamClaim(asset_id, path, int(time.time()) + ttl, viewer))

    def decode(self, token: str, *, now: float | None = None) -> StreamClaim:
        try:
            raw = _b64d(token)
            if len(raw) < 12 + 16:
                raise InvalidToken
            body = json.loads(self._aead.decrypt(raw[:12], raw[12:], _AAD))
            claim = StreamClaim(
                asset_id=str(body["a"]),
                path=str(body["p"]),
                expires_at=int(body["e"]),
                viewer=str(body["v"]) if "v" in body else None,
            )
        except InvalidToken:
            raise
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise InvalidToken from exc
        except Exception as exc:  # cryptography's InvalidTag and friends
            raise InvalidToken from exc
        if claim.expires_at < (time.time() if now is None else now):
            raise InvalidToken
        return claim
