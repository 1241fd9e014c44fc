"""Encrypted, expiring stream paths: AES-GCM over (asset id, path, expiry, viewer).

A token is url-safe base64 of

    version (1) | kid (4) | nonce (12) | AES-GCM(expiry u32, asset, viewer, path, pad) + tag (16)

with the version and kid as associated data. The kid names the key that sealed it (a
hash of the key, revealing nothing): the codec signs with one key and verifies with
every key it holds, so a key can be rotated in while the old one verifies until the
tokens it signed expire. Anything that does not decrypt, names an unknown key, has
expired or is malformed raises InvalidToken and nothing more is said. Tokens of the
first format (JSON sealed with no kid) still decode, so an upgrade breaks no URL.

The plaintext is packed, not JSON: a playlist of 150 segments signs 150 tokens per
viewer, and the encryption is then all that is left of the cost. `deterministic=True`
derives the nonce from the plaintext (HMAC-SHA256, a synthetic IV), so one claim always
gives one token: the CDN-cacheable mode's shared segment URLs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import struct
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = 2
_HEADER = 1 + 4
_NONCE = 12
_TAG = 16
_EXPIRY = struct.Struct(">I")
_AAD_V1 = b"streamcore-stream-v1"


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class StreamClaim:
    asset_id: str
    path: str
    expires_at: int
    viewer: str | None = None


def _b64e(raw: bytes) -> str:
    return binascii.b2a_base64(raw, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def derive_key(secret: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"streamcore stream tokens"
    ).derive(secret.encode())


def key_id(key: bytes) -> bytes:
    """The public 4-byte name of a key."""
    return hashlib.sha256(b"streamcore stream kid\x00" + key).digest()[:4]


class _Key:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("stream token key must be 32 bytes")
        self.kid = key_id(key)
        self.header = bytes([VERSION]) + self.kid
        self.aead = AESGCM(key)
        self.siv = hashlib.sha256(b"streamcore stream siv\x00" + key).digest()


def _pack(claim: StreamClaim) -> bytes:
    asset = claim.asset_id.encode()
    viewer = (claim.viewer or "").encode()
    if len(asset) > 255 or len(viewer) > 255:
        raise ValueError("asset id and viewer must be at most 255 bytes")
    return b"".join(
        (
            _EXPIRY.pack(claim.expires_at),
            bytes([len(asset)]),
            asset,
            bytes([len(viewer)]),
            viewer,
            claim.path.encode(),
        )
    )


def _unpack(raw: bytes) -> StreamClaim:
    (expires_at,) = _EXPIRY.unpack_from(raw)
    at = _EXPIRY.size
    asset_len = raw[at]
    asset = raw[at + 1 : at + 1 + asset_len]
    at += 1 + asset_len
    viewer_len = raw[at]
    viewer = raw[at + 1 : at + 1 + viewer_len]
    path = raw[at + 1 + viewer_len :].rstrip(b"\0")
    if len(asset) != asset_len or len(viewer) != viewer_len:
        raise InvalidToken
    return StreamClaim(asset.decode(), path.decode(), expires_at, viewer.decode() or None)


class TokenCodec:
    def __init__(self, key: bytes, verify_only: Iterable[bytes] = ()) -> None:
        self._signer = _Key(key)
        self._keys = {k.kid: k for k in (*map(_Key, verify_only), self._signer)}

    @classmethod
    def from_secret(cls, secret: str, verify_secrets: Iterable[str] = ()) -> TokenCodec:
        """Sign with the key of secret; also verify tokens of verify_secrets (old keys
        during a rotation, or the next key before it signs)."""
        return cls(derive_key(secret), [derive_key(s) for s in verify_secrets])

    @property
    def kid(self) -> str:
        """The signing key's id, as operators see it."""
        return self._signer.kid.hex()

    @property
    def kids(self) -> list[str]:
        return sorted(k.hex() for k in self._keys)

    def encode(self, claim: StreamClaim, *, deterministic: bool = False) -> str:
        [token] = self.encode_many(
            claim.asset_id,
            claim.expires_at,
            claim.viewer,
            [claim.path.encode()],
            deterministic=deterministic,
        )
        return token

    def encode_many(
        self,
        asset_id: str,
        expires_at: int,
        viewer: str | None,
        paths: Sequence[bytes],
        *,
        deterministic: bool = False,
    ) -> list[str]:
        """The tokens of the claims (asset_id, path, expires_at, viewer) for every path
        (UTF-8 bytes). The shared part of the plaintext is packed once, the nonces come
        from one read of the random source, and all tokens are base64-encoded at once:
        each plaintext is padded with NULs so its token is a multiple of 3 bytes, which
        makes the base64 of the joined tokens their base64s end to end. What is left per
        token is its encryption."""
        key = self._signer
        head = _pack(StreamClaim(asset_id, "", expires_at, viewer))
        fixed = _HEADER + _NONCE + _TAG + len(head)
        header, seal, siv = key.header, key.aead.encrypt, key.siv
        randoms = b"" if deterministic else os.urandom(_NONCE * len(paths))
        parts: list[bytes] = []
        add = parts.append
        widths = []
        for i, path in enumerate(paths):
            pad = -(fixed + len(path)) % 3
            plain = head + path + b"\0" * pad if pad else head + path
            if deterministic:
                nonce = hmac.digest(siv, plain, "sha256")[:_NONCE]
            else:
                nonce = randoms[i * _NONCE : (i + 1) * _NONCE]
            add(header)
            add(nonce)
            add(seal(nonce, plain, header))
            widths.append((fixed + len(path) + pad) // 3 * 4)
        text = binascii.b2a_base64(b"".join(parts), newline=False).translate(_URLSAFE).decode()
        out = []
        at = 0
        for width in widths:
            out.append(text[at : at + width])
            at += width
        return out

    def issue(self, asset_id: str, path: str, ttl: int, viewer: str | None = None) -> str:
        return self.encode(StreamClaim(asset_id, path, int(time.time()) + ttl, viewer))

    def decode(self, token: str, *, now: float | None = None) -> StreamClaim:
        try:
            raw = _b64d(token)
            try:
                claim = self._open(raw)
            except Exception:
                claim = self._open_v1(raw)
        except InvalidToken:
            raise
        except (ValueError, IndexError, KeyError, TypeError, struct.error, binascii.Error) as exc:
            raise InvalidToken from exc
        except Exception as exc:  # cryptography's InvalidTag and friends
            raise InvalidToken from exc
        if claim.expires_at < (time.time() if now is None else now):
            raise InvalidToken
        return claim

    def _open(self, raw: bytes) -> StreamClaim:
        if len(raw) < _HEADER + _NONCE + _TAG or raw[0] != VERSION:
            raise InvalidToken
        key = self._keys.get(raw[1:_HEADER])
        if key is None:
            raise InvalidToken
        nonce = raw[_HEADER : _HEADER + _NONCE]
        return _unpack(key.aead.decrypt(nonce, raw[_HEADER + _NONCE :], raw[:_HEADER]))

    def _open_v1(self, raw: bytes) -> StreamClaim:
        """A token of the first format (JSON inside, no kid), tried against every key,
        so playback URLs handed out before an upgrade keep playing until they expire."""
        if len(raw) < _NONCE + _TAG:
            raise InvalidToken
        for key in self._keys.values():
            try:
                body = json.loads(key.aead.decrypt(raw[:_NONCE], raw[_NONCE:], _AAD_V1))
            except Exception:
                continue
            viewer = body.get("v")
            return StreamClaim(str(body["a"]), str(body["p"]), int(body["e"]),
                               str(viewer) if viewer is not None else None)  # fmt: skip
        raise InvalidToken
