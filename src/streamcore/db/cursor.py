"""Opaque keyset cursors: a position (created_at, id) in a newest-first listing.
A position, not an offset, so rows inserted during a walk never shift a page."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from streamcore.errors import BadRequest

_VERSION = "v1"


def encode_cursor(created_at: datetime, row_id: str) -> str:
    raw = json.dumps([_VERSION, created_at.isoformat(), row_id])
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) position a cursor names; BadRequest for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        version, at, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        when = datetime.fromisoformat(at)
        if version != _VERSION or not isinstance(row_id, str) or when.tzinfo is None:
            raise ValueError(cursor)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise BadRequest("the cursor is not one this API returned") from exc
    return when.astimezone(UTC), row_id
