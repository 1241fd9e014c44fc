"""Untrusted values from the wire, parsed strictly in one place: ids, header values,
multipart headers. Every parser either returns a clean value or raises BadRequest (a
4xx the client can act on); nothing here lets a malformed value reach the database,
storage keys or logs.

A leaf package: it imports nothing of streamcore but `errors`."""

from streamcore.inputs.ids import ID_PATTERN, EntityId, OptionalEntityId, PathId, is_id, parse_id
from streamcore.inputs.values import (
    content_disposition,
    decode_utf8,
    header_int,
    multipart_boundary,
    optional_header_int,
)

__all__ = [
    "ID_PATTERN",
    "EntityId",
    "OptionalEntityId",
    "PathId",
    "content_disposition",
    "decode_utf8",
    "header_int",
    "is_id",
    "multipart_boundary",
    "optional_header_int",
    "parse_id",
]
