"""Pure HLS playlists: the segments a playlist names, its VOD finalisation, the signing
rewrite of every URI inside one asset, and the captions' subtitle rendition."""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SUBS_GROUP = "subs"
SUBS_DIR = "subs"
# FFmpeg's MPEG-TS muxer starts timestamps 1.4 s in; used when the first segment
# cannot be probed.
DEFAULT_MPEGTS_OFFSET = 126_000

_URI_ATTR = re.compile(r'URI="([^"]*)"')
_SUBTITLES_ATTR = re.compile(r',?SUBTITLES="[^"]*"')


def finalize_playlist(text: str) -> str:
    """An EVENT playlist that FFmpeg ended becomes VOD."""
    return text.replace("#EXT-X-PLAYLIST-TYPE:EVENT", "#EXT-X-PLAYLIST-TYPE:VOD")


def playlist_segments(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def resolve(base_path: str, ref: str) -> str | None:
    """Resolve a playlist reference against the playlist's own path, inside the asset.
    Absolute URLs and references that climb out of the asset give None."""
    if "://" in ref or ref.startswith("/") or ref.startswith("data:"):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(base_path), ref))
    if joined.startswith("../") or joined == ".." or joined.startswith("/"):
        return None
    return joined


def rewrite_playlist(text: str, playlist_path: str, sign: Callable[[str], str]) -> str:
    """Replace every URI line and URI="..." attribute by sign(resolved path).

    sign returns the URL to put in place (relative to /stream/). References we cannot
    resolve inside the asset are dropped rather than passed through.
    """
    out: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            out.append(line)
            continue
        if stripped.startswith("#"):

            def attr(m: re.Match[str]) -> str:
                target = resolve(playlist_path, m.group(1))
                return f'URI="{sign(target)}"' if target is not None else 'URI=""'

            out.append(_URI_ATTR.sub(attr, line))
            continue
        target = resolve(playlist_path, stripped)
        if target is None:
            continue
        out.append(sign(target))
    return "\n".join(out) + "\n"


_VTT_IMAGE = re.compile(
    r"^(?P<ref>[\w./-]+\.(?:jpg|jpeg|png|webp))(?P<frag>#xywh=\d+,\d+,\d+,\d+)?$"
)


def rewrite_vtt_images(text: str, vtt_path: str, sign: Callable[[str], str]) -> str:
    """Sign the image references of a WebVTT thumbnails track (`sprite.jpg#xywh=...`).
    Caption text is left alone: only whole lines that are an image reference change."""
    out: list[str] = []
    for line in text.splitlines():
        m = _VTT_IMAGE.match(line.strip())
        target = resolve(vtt_path, m.group("ref")) if m else None
        if m is None or target is None:
            out.append(line)
            continue
        out.append(sign(target) + (m.group("frag") or ""))
    return "\n".join(out) + "\n"


def subtitle_playlist(vtt_name: str, duration: float) -> str:
    """A VOD media playlist whose single WebVTT segment covers the whole asset."""
    seconds = max(duration, 0.001)
    return (
        "#EXTM3U\n"
        "#EXT-X-VERSION:3\n"
        f"#EXT-X-TARGETDURATION:{math.ceil(seconds)}\n"
        "#EXT-X-MEDIA-SEQUENCE:0\n"
        "#EXT-X-PLAYLIST-TYPE:VOD\n"
        f"#EXTINF:{seconds:.3f},\n"
        f"{vtt_name}\n"
        "#EXT-X-ENDLIST\n"
    )


def _is_our_rendition(line: str) -> bool:
    return (
        line.startswith("#EXT-X-MEDIA:")
        and "TYPE=SUBTITLES" in line
        and f'GROUP-ID="{SUBS_GROUP}"' in line
    )


def add_subtitles(master: str, *, uri: str, language: str | None, name: str) -> str:
    """The master playlist with one subtitle rendition in group "subs", referenced by
    every variant. Idempotent: an earlier rendition of the group is replaced."""
    attrs = [
        "TYPE=SUBTITLES",
        f'GROUP-ID="{SUBS_GROUP}"',
        f'NAME="{name.replace(chr(34), "")}"',
    ]
    if language:
        attrs.append(f'LANGUAGE="{language}"')
    attrs += ["DEFAULT=NO", "AUTOSELECT=YES", f'URI="{uri}"']
    media = "#EXT-X-MEDIA:" + ",".join(attrs)

    out: list[str] = []
    inserted = False
    for line in master.splitlines():
        if _is_our_rendition(line.strip()):
            continue
        if line.startswith("#EXT-X-STREAM-INF:"):
            if not inserted:
                out.append(media)
                inserted = True
            line = _SUBTITLES_ATTR.sub("", line) + f',SUBTITLES="{SUBS_GROUP}"'
        out.append(line)
    if not inserted:
        raise ValueError("the master playlist has no variant streams")
    return "\n".join(out) + "\n"


def first_segment(playlist: str) -> str | None:
    """The first URI line of a playlist (the first variant of a master, or the first
    segment of a media playlist)."""
    for line in playlist.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return stripped
    return None


def mpegts_offset(probe: dict[str, Any]) -> int | None:
    """The earliest start of any stream of a probed MPEG-TS segment, in 90 kHz ticks:
    the segment time at which the asset's time 0 (the transcript's 0) plays."""
    starts: list[float] = []
    for stream in probe.get("streams") or []:
        try:
            starts.append(float(stream["start_time"]))
        except (KeyError, TypeError, ValueError):
            continue
    if not starts:
        return None
    return max(0, round(min(starts) * 90_000))


_HOLE = "\x00"


@dataclass(frozen=True)
class Template:
    """A playlist parsed once: literal text around the references to sign. Rendering is
    `parts[0] + sign(targets[0]) + parts[1] + ...`: only the signing is left per viewer."""

    parts: tuple[str, ...]
    targets: tuple[str, ...]

    def render(self, signed: list[str]) -> str:
        out = [self.parts[0]]
        for name, part in zip(signed, self.parts[1:], strict=True):
            out.append(name)
            out.append(part)
        return "".join(out)


def parse(text: str, path: str, *, vtt: bool = False) -> Template:
    """The Template of an HLS playlist (or, vtt=True, a WebVTT thumbnails track)."""
    targets: list[str] = []

    def hole(target: str) -> str:
        targets.append(target)
        return _HOLE

    rewrite = rewrite_vtt_images if vtt else rewrite_playlist
    parts = rewrite(text.replace(_HOLE, ""), path, hole).split(_HOLE)
    return Template(tuple(parts), tuple(targets))
