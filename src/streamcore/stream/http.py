"""HTTP semantics of playback, with no framework in them: what one stream request is
answered (status, headers, and a body that is bytes, a local file or a stream of
chunks). The ASGI fast path and the FastAPI route both send a Reply."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Players on other origins (hls.js, video.js, Safari's native HLS in a web view) read
# these; no credentials are involved (the token is the URL), so `*` is right.
CORS_HEADERS = {
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "Content-Length, Content-Range, Accept-Ranges, ETag, Age",
}
PREFLIGHT_HEADERS = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, HEAD, OPTIONS",
    "access-control-allow-headers": "Range, If-None-Match, If-Range",
    "access-control-max-age": "86400",
}


@dataclass
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    # Instead of body: a local file (all of it, or [start, end] inclusive) ...
    path: Path | None = None
    start: int = 0
    end: int | None = None
    # ... or chunks from object storage.
    chunks: AsyncIterator[bytes] | None = None


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range (inclusive) a `Range: bytes=...` header asks for. None means
    "send it all" (no header, another unit, or several ranges); ValueError means the
    range cannot be satisfied (416)."""
    if not header or not header.strip().lower().startswith("bytes="):
        return None
    spec = header.strip()[6:].strip()
    if "," in spec:
        return None
    first, sep, last = spec.partition("-")
    first, last = first.strip(), last.strip()
    if not sep or not (first.isdigit() or (not first and last.isdigit())):
        return None
    if not first:
        if int(last) == 0 or size == 0:
            raise ValueError("empty suffix range")
        return max(0, size - int(last)), size - 1
    start = int(first)
    if last and not last.isdigit():
        return None
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise ValueError("range outside the object")
    return start, end


def local_etag(size: int, mtime: float) -> str:
    """The ETag nginx gives a static file (mtime and size in hex), so a segment has
    the same validator whether streamcore or nginx (X-Accel-Redirect) sends it."""
    return f'"{int(mtime):x}-{size:x}"'


def quoted_etag(raw: str | None) -> str | None:
    """An object store's ETag as a strong, quoted entity tag."""
    if not raw:
        return None
    return f'"{raw.strip().removeprefix("W/").strip(chr(34))}"'


def none_match(header: str | None, etag: str | None) -> bool:
    """If-None-Match matches (weak comparison, RFC 9110 13.1.2): answer 304."""
    if not header or not etag:
        return False
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in header.split(","))


def range_applies(headers: Mapping[str, str], etag: str | None) -> bool:
    """If-Range (entity tag form): a range is only sent if the validator still holds."""
    condition = headers.get("if-range")
    if condition is None:
        return True
    return etag is not None and condition.strip() == etag


def select(headers: Mapping[str, str], size: int, etag: str | None, base: dict[str, str]) -> Reply:
    """What to send of an object of `size` bytes: all of it (200), the range asked for
    (206, `start`/`end` set), 416, or 304; the caller attaches the body source."""
    out = {**base, "accept-ranges": "bytes"}
    if etag:
        out["etag"] = etag
    if none_match(headers.get("if-none-match"), etag):
        return Reply(304, out)
    range_header = headers.get("range")
    if range_header is not None and range_applies(headers, etag):
        try:
            span = parse_range(range_header, size)
        except ValueError:
            return Reply(416, {**out, "content-range": f"bytes */{size}"})
        if span is not None:
            start, end = span
            out["content-range"] = f"bytes {start}-{end}/{size}"
            out["content-length"] = str(end - start + 1)
            return Reply(206, out, start=start, end=end)
    out["content-length"] = str(size)
    return Reply(200, out, start=0, end=size - 1 if size else None)
