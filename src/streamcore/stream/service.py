"""Playback: signed tokens for an asset's HLS files and the rewriting of playlists."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path

from streamcore.adapters.storage.base import InvalidKey, ObjectNotFound
from streamcore.errors import Forbidden, NotFound
from streamcore.infra import Infra
from streamcore.media.hls import rewrite_playlist, rewrite_vtt_images
from streamcore.models import StreamLog
from streamcore.security.stream_tokens import InvalidToken, StreamClaim
from streamcore.videos import layout
from streamcore.videos import service as videos

MASTER = layout.MASTER_PATH
# Top-level folders of an asset that a token may address. Never `source`: the original
# upload is not served.
SERVABLE_ROOTS = frozenset({"hls", "derivatives", "thumbnails", "transcript"})

CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".aac": "audio/aac",
    ".vtt": "text/vtt; charset=utf-8",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
    ".mp3": "audio/mpeg",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}
REWRITTEN = frozenset({".m3u8", ".vtt"})

# Stream paths under these directories name files stored beside the HLS output
# (transcripts); every other path is relative to the asset's HLS prefix.


@dataclass
class StreamItem:
    claim: StreamClaim
    key: str
    content_type: str
    kind: str
    # Exactly one of these is set: a rewritten playlist, a local file, or a storage key.
    playlist: bytes | None = None
    local_path: Path | None = None
    # Size of a remote object (for Range and Content-Length).
    size: int | None = None


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


def url_name(token: str, path: str) -> str:
    """The last URL segment for a token: the token plus the file's extension, because
    players (FFmpeg's HLS demuxer, hls.js) decide what a URI is by its extension."""
    return token + posixpath.splitext(path)[1].lower()


def sign(infra: Infra, claim: StreamClaim) -> str:
    return url_name(infra.tokens.encode(claim), claim.path)


def signed_name(
    infra: Infra, asset_id: str, path: str, viewer: str | None = None, ttl: int | None = None
) -> str:
    """`{token}.{ext}` for a file of the asset (path relative to the asset's folder),
    valid ttl seconds (default: the server's token TTL)."""
    ttl = ttl or infra.settings.stream.token_ttl_seconds
    return url_name(infra.tokens.issue(asset_id, path, ttl, viewer), path)


def playback_name(infra: Infra, asset_id: str, viewer: str | None) -> str:
    return signed_name(infra, asset_id, MASTER, viewer)


def decode(infra: Infra, name: str) -> StreamClaim:
    token, _, ext = name.partition(".")
    try:
        claim = infra.tokens.decode(token)
    except InvalidToken as exc:
        # Tampered, expired and foreign tokens look the same from outside.
        raise Forbidden("invalid or expired link") from exc
    if ext and f".{ext.lower()}" != posixpath.splitext(claim.path)[1].lower():
        raise Forbidden("invalid or expired link")
    return claim


def kind_of(path: str) -> str:
    if path == MASTER:
        return "master"
    if path.endswith(".m3u8"):
        return "variant"
    return "segment" if path.startswith(f"{layout.HLS}/") else "file"


async def servable(infra: Infra, asset_id: str) -> bool:
    """Is the asset still served? Not once its deletion began: every token of it,
    even one issued before and not yet expired, then reads as a missing file."""
    async with infra.transaction() as session:
        return await videos.is_servable(session, asset_id)


async def open_item(infra: Infra, token: str) -> StreamItem:
    claim = decode(infra, token)
    if not await servable(infra, claim.asset_id):
        raise NotFound("no such file in this stream")
    ext = posixpath.splitext(claim.path)[1].lower()
    content_type = CONTENT_TYPES.get(ext)
    if content_type is None or claim.path.split("/", 1)[0] not in SERVABLE_ROOTS:
        raise Forbidden("invalid or expired link")
    try:
        key = layout.key(claim.asset_id, claim.path)
        item = StreamItem(claim, key, content_type, kind_of(claim.path))
        if ext in REWRITTEN:
            text = (await infra.storage.get_bytes(key)).decode("utf-8")

            def sign_target(target: str) -> str:
                # Children expire with their parent: a playlist never extends access.
                return sign(
                    infra, StreamClaim(claim.asset_id, target, claim.expires_at, claim.viewer)
                )

            rewrite = rewrite_playlist if ext == ".m3u8" else rewrite_vtt_images
            item.playlist = rewrite(text, claim.path, sign_target).encode()
            return item
        local = infra.storage.local_path(key)
        if local is not None:
            if not local.is_file():
                raise ObjectNotFound(key)
            item.local_path = local
        else:
            item.size = (await infra.storage.stat(key)).size
        return item
    except (ObjectNotFound, InvalidKey) as exc:
        raise NotFound("no such file in this stream") from exc


async def log_view(infra: Infra, item: StreamItem, client_ip: str | None, ua: str | None) -> None:
    async with infra.transaction() as session:
        session.add(
            StreamLog(
                asset_id=item.claim.asset_id,
                path=item.claim.path,
                kind=item.kind,
                status_code=200,
                bytes_sent=len(item.playlist or b""),
                client_ip=client_ip,
                user_agent=(ua or "")[:512] or None,
            )
        )
