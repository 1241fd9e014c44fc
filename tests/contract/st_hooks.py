"""schemathesis hooks for the contract runs (loaded through SCHEMATHESIS_HOOKS)."""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.transport.requests import binary_serializer


@schemathesis.serializer("application/offset+octet-stream")
def tus_patch_body(ctx: schemathesis.SerializationContext, value: Any) -> Any:
    """tus PATCH bodies are plain bytes, sent as application/offset+octet-stream."""
    return binary_serializer(ctx, value)
