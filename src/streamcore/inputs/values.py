"""Header and multipart values, decoded strictly.

HTTP header values arrive as bytes (ASGI) that Starlette shows as latin-1 text; a
multipart part's headers are raw bytes that browsers fill with UTF-8. Each parser
here takes exactly the grammar it documents and raises BadRequest for anything else:
no `str.isdigit()` (true for superscript and Arabic-Indic digits), no silent
"replace" decoding that stores a garbled file name, no vendor exception escaping as
a 500."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote_to_bytes

from streamcore.errors import BadRequest

# Up to 19 ASCII digits: every value fits a signed 64-bit column.
_UINT = re.compile(r"[0-9]{1,19}")
# RFC 2046 section 5.1.1: 1 to 70 characters of bchars, not ending in a space.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
MAX_TEXT = 1024


def header_int(value: str | None, name: str) -> int:
    """A non-negative integer header (Upload-Length, Upload-Offset, Content-Length)."""
    if value is None or _UINT.fullmatch(value.strip(" \t")) is None:
        raise BadRequest(f"{name} must be a non-negative integer")
    return int(value.strip(" \t"))


def optional_header_int(value: str | None, name: str) -> int | None:
    return None if value is None else header_int(value, name)


def decode_utf8(raw: bytes, what: str, *, max_length: int = MAX_TEXT) -> str:
    """Text that must be UTF-8 with no control characters (file and field names)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{what} is not valid UTF-8") from exc
    if len(text) > max_length:
        raise BadRequest(f"{what} is longer than {max_length} characters")
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in text):
        raise BadRequest(f"{what} contains control characters")
    return unicodedata.normalize("NFC", text)


def multipart_boundary(content_type: str) -> bytes:
    """The boundary of a `multipart/form-data` Content-Type, checked against RFC 2046."""
    media_type, _, rest = content_type.partition(";")
    if media_type.strip().lower() != "multipart/form-data":
        raise BadRequest("expected multipart/form-data with a boundary")
    params = _parameters(rest.encode("latin-1"), "Content-Type")
    boundary = params.get("boundary")
    if boundary is None:
        raise BadRequest("expected multipart/form-data with a boundary")
    if _BOUNDARY.fullmatch(boundary) is None:
        raise BadRequest("the multipart boundary must be 1 to 70 characters (RFC 2046)")
    return boundary.encode("ascii")


def content_disposition(raw: bytes) -> dict[str, str]:
    """The parameters of a part's `Content-Disposition: form-data; name=...;
    filename=...` header (raw bytes). Values are UTF-8 (what browsers send), or
    RFC 5987 `filename*=UTF-8''...`, which wins over `filename`."""
    kind, _, rest = raw.partition(b";")
    if kind.strip().lower() != b"form-data":
        raise BadRequest("a multipart part needs Content-Disposition: form-data")
    return _parameters(rest, "Content-Disposition")


def _parameters(raw: bytes, header: str) -> dict[str, str]:
    """`; key=value; key="quoted"; key*=UTF-8''pct` into a dict (RFC 7231/5987/6266)."""
    out: dict[str, str] = {}
    extended: dict[str, str] = {}
    pos = 0
    while pos < len(raw):
        while pos < len(raw) and raw[pos : pos + 1] in (b" ", b"\t", b";"):
            pos += 1
        if pos >= len(raw):
            break
        key_match = _TOKEN.match(raw, pos)
        if key_match is None or raw[key_match.end() : key_match.end() + 1] != b"=":
            raise BadRequest(f"malformed {header} header")
        key = key_match.group().decode("ascii").lower()
        pos = key_match.end() + 1
        value, pos = _value(raw, pos, header)
        if key.endswith("*"):
            extended[key[:-1]] = _extended(value, header)
        else:
            out[key] = decode_utf8(value, f"{header} {key}")
    out.update(extended)
    return out


def _value(raw: bytes, pos: int, header: str) -> tuple[bytes, int]:
    if raw[pos : pos + 1] != b'"':
        end = raw.find(b";", pos)
        end = len(raw) if end < 0 else end
        return raw[pos:end].strip(b" \t"), end
    value = bytearray()
    pos += 1
    while pos < len(raw):
        byte = raw[pos : pos + 1]
        if byte == b"\\" and pos + 1 < len(raw):
            value += raw[pos + 1 : pos + 2]
            pos += 2
        elif byte == b'"':
            return bytes(value), pos + 1
        else:
            value += byte
            pos += 1
    raise BadRequest(f"unterminated quoted value in the {header} header")


def _extended(value: bytes, header: str) -> str:
    charset, _, rest = value.partition(b"'")
    _, _, encoded = rest.partition(b"'")
    if charset.lower() != b"utf-8":
        raise BadRequest(f"{header}: only UTF-8 extended values are supported")
    try:
        return decode_utf8(unquote_to_bytes(encoded.decode("ascii")), header)
    except UnicodeDecodeError as exc:
        raise BadRequest(f"malformed extended value in the {header} header") from exc
