"""Playback: signed tokens for an asset's files, and the answer to one `/stream/{token}`
request (a Reply), whichever server or framework sends it.

Per request the hot path decodes one token, then either renders a cached playlist
template (the only per-viewer work left is encrypting the child tokens), or stats a
local file (sent zero-copy, or by nginx after X-Accel-Redirect), or streams / redirects
to an object in remote storage."""

from __future__ import annotations

import json
import math
import os
import posixpath
import time
from collections.abc import Mapping

from streamcore.adapters.storage.base import InvalidKey, ObjectNotFound, StorageError
from streamcore.errors import AppError, Forbidden, NotFound, ServiceUnavailable
from streamcore.infra import Infra
from streamcore.media.hls import Template, parse
from streamcore.security.stream_tokens import InvalidToken, StreamClaim
from streamcore.stream import http
from streamcore.stream.cache import PlaylistCache
from streamcore.stream.http import Reply
from streamcore.stream.servable import Servable
from streamcore.stream.viewlog import ViewLog, build_sink
from streamcore.videos import layout

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
PLAYLIST_CACHE_CONTROL = "private, no-cache"


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


class Signable:
    """A parsed playlist with what signing its references needs, worked out once."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self.paths = [t.encode() for t in template.targets]
        self.exts = [posixpath.splitext(t)[1].lower() for t in template.targets]
        self.media = [e != ".m3u8" for e in self.exts]

    def final(self) -> bool:
        """A playlist that no longer changes: a master, a thumbnails track, or a
        variant that ends (VOD). An EVENT playlist still being transcoded grows."""
        text = "".join(self.template.parts)
        if not text.startswith("#EXTM3U"):
            return True
        tags = ("#EXT-X-ENDLIST", "#EXT-X-STREAM-INF", "#EXT-X-MEDIA:")
        return any(tag in text for tag in tags)


def error_reply(exc: AppError) -> Reply:
    body = json.dumps({"error": exc.name, "detail": exc.detail}).encode()
    headers = {"content-type": "application/json", "cache-control": "no-store"}
    if isinstance(exc, ServiceUnavailable):
        headers["retry-after"] = "5"
    return Reply(exc.status_code, {**headers, "content-length": str(len(body))}, body)


class Playback:
    """The stream endpoint's state in one process: the playlist cache and the view log."""

    def __init__(self, infra: Infra) -> None:
        self.infra = infra
        cfg = infra.settings.stream
        self.cfg = cfg
        self.cache: PlaylistCache[Signable] = PlaylistCache(
            cfg.playlist_cache_entries, cfg.playlist_cache_max_age_seconds
        )
        self.servable = Servable(infra)
        self.views = ViewLog(
            build_sink(infra),
            flush_seconds=cfg.view_log_flush_seconds,
            batch=cfg.view_log_batch,
            max_buffered=cfg.view_log_max_buffered,
        )

    async def start(self) -> None:
        await self.infra.realtime.add_listener(self.cache.on_event)
        await self.infra.realtime.add_listener(self.servable.on_event)
        self.views.start()

    async def stop(self) -> None:
        await self.views.stop()

    async def answer(
        self,
        name: str,
        headers: Mapping[str, str],
        client_ip: str | None = None,
    ) -> tuple[str, Reply]:
        """(kind, reply) for GET or HEAD of /stream/{name}; headers are lower-cased."""
        try:
            claim = decode(self.infra, name)
            ext = posixpath.splitext(claim.path)[1].lower()
            content_type = CONTENT_TYPES.get(ext)
            if content_type is None or claim.path.split("/", 1)[0] not in SERVABLE_ROOTS:
                raise Forbidden("invalid or expired link")
            kind = kind_of(claim.path)
            if not await self.servable.check(claim.asset_id):
                raise NotFound("no such file in this stream")
            try:
                if ext in REWRITTEN:
                    reply = await self._playlist(claim, ext, content_type)
                    if kind == "master":
                        self.views.record(
                            claim.asset_id, claim.path, kind, len(reply.body), client_ip,
                            headers.get("user-agent"),
                        )  # fmt: skip
                    return kind, reply
                reply = await self._file(claim, kind, content_type, headers)
                if reply.status in (200, 206) and (reply.path or reply.chunks):
                    sent = int(reply.headers.get("content-length", 0))
                    self.views.add_bytes(claim.asset_id, claim.path, sent)
                return kind, reply
            except (ObjectNotFound, InvalidKey) as exc:
                raise NotFound("no such file in this stream") from exc
            except StorageError as exc:
                raise ServiceUnavailable("object storage is unavailable") from exc
        except (Forbidden, NotFound, ServiceUnavailable) as exc:
            return "unknown", error_reply(exc)

    # -- playlists --
    async def _playlist(self, claim: StreamClaim, ext: str, content_type: str) -> Reply:
        key = layout.key(claim.asset_id, claim.path)

        async def load() -> Signable:
            text = (await self.infra.storage.get_bytes(key)).decode("utf-8")
            return Signable(parse(text, claim.path, vtt=ext == ".vtt"))

        item = await self.cache.get(claim.asset_id, claim.path, load, keep=Signable.final)
        body = item.template.render(self.sign_children(claim, item)).encode()
        return Reply(
            200,
            {
                "content-type": content_type,
                "cache-control": PLAYLIST_CACHE_CONTROL,
                "content-length": str(len(body)),
            },
            body,
        )

    def sign_children(self, parent: StreamClaim, item: Signable) -> list[str]:
        """Child tokens expire with their parent: a playlist never extends access. In
        CDN mode media files (not playlists) drop the viewer and round the expiry up
        to the window, so every viewer in it gets the same URL."""
        tokens = self.infra.tokens
        asset, exp, viewer = parent.asset_id, parent.expires_at, parent.viewer
        if not self.cfg.cdn_cacheable:
            signed = tokens.encode_many(asset, exp, viewer, item.paths)
            return [t + e for t, e in zip(signed, item.exts, strict=True)]
        window = self.cfg.cdn_window_seconds
        shared_exp = math.ceil(exp / window) * window
        out = []
        for path, e, media in zip(item.paths, item.exts, item.media, strict=True):
            if media:
                [token] = tokens.encode_many(asset, shared_exp, None, [path], deterministic=True)
            else:
                [token] = tokens.encode_many(asset, exp, viewer, [path])
            out.append(token + e)
        return out

    # -- segments and other files --
    def _cache_control(self, claim: StreamClaim) -> str:
        left = max(0, claim.expires_at - int(time.time()))
        if self.cfg.cdn_cacheable and claim.viewer is None:
            return f"public, max-age={left}, immutable"
        return f"private, max-age={left}"

    async def _file(
        self, claim: StreamClaim, kind: str, content_type: str, headers: Mapping[str, str]
    ) -> Reply:
        key = layout.key(claim.asset_id, claim.path)
        base = {"content-type": content_type, "cache-control": self._cache_control(claim)}
        local = self.infra.storage.local_path(key)
        if local is not None:
            try:
                st = os.stat(local)
            except FileNotFoundError as exc:
                raise ObjectNotFound(key) from exc
            etag = http.local_etag(st.st_size, st.st_mtime)
            if self.cfg.local_delivery == "nginx":
                if http.none_match(headers.get("if-none-match"), etag):
                    return Reply(304, {**base, "etag": etag})
                redirect = self.cfg.nginx_internal_prefix + key
                return Reply(200, {**base, "x-accel-redirect": redirect})
            reply = http.select(headers, st.st_size, etag, base)
            reply.path = local
            return reply
        return await self._remote(key, claim, headers, base)

    async def _remote(
        self, key: str, claim: StreamClaim, headers: Mapping[str, str], base: dict[str, str]
    ) -> Reply:
        """Object storage: a redirect to a short-lived presigned GET (the store answers
        Range and conditional requests itself), or streamed through here (also, in
        redirect mode, a suffix range that the store cannot answer)."""
        storage = self.infra.storage
        suffix = headers.get("range", "").replace(" ", "").lower().startswith("bytes=-")
        if (
            self.cfg.remote_delivery == "redirect"
            and storage.presigns
            and (storage.suffix_ranges or not suffix)
        ):
            left = max(0, claim.expires_at - int(time.time()))
            ttl = max(1, min(self.cfg.redirect_ttl_seconds, left))
            try:
                url = await storage.presign_get(
                    key, expires_in=ttl, content_type=base["content-type"]
                )
            except StorageError as exc:
                raise NotFound("no such file in this stream") from exc
            return Reply(302, {"location": url, "cache-control": "no-store"})
        info = await storage.stat(key)
        reply = http.select(headers, info.size, http.quoted_etag(info.etag), base)
        if reply.status in (200, 206) and info.size:
            reply.chunks = storage.iter_range(key, reply.start, reply.end)
        return reply
