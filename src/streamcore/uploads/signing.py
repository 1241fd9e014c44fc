"""HMAC-signed upload URLs to the API itself (local storage has no presigned URLs of
its own). The signature covers the asset, the upload and the expiry."""

from __future__ import annotations

import hashlib
import hmac
import time

_CONTEXT = b"streamcore-upload-url-v1"


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _CONTEXT, hashlib.sha256).digest()


def sign(secret: str, asset_id: str, upload_id: str, expires_at: int) -> str:
    msg = f"{asset_id}:{upload_id}:{expires_at}".encode()
    return hmac.new(_key(secret), msg, hashlib.sha256).hexdigest()


def verify(
    secret: str, asset_id: str, upload_id: str, expires_at: int, sig: str, now: float | None = None
) -> bool:
    if expires_at < (time.time() if now is None else now):
        return False
    # Bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500).
    expected = sign(secret, asset_id, upload_id, expires_at).encode()
    return hmac.compare_digest(expected, sig.encode("utf-8", "surrogateescape"))
