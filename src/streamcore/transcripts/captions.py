"""Pure HLS pieces for captions: the subtitle media playlist and the master playlist
with a SUBTITLES rendition group."""

from __future__ import annotations

import math
import re
from typing import Any

SUBS_GROUP = "subs"
SUBS_DIR = "subs"
# FFmpeg's MPEG-TS muxer starts timestamps 1.4 s in; used when the first segment
# cannot be probed.
DEFAULT_MPEGTS_OFFSET = 126_000

_SUBTITLES_ATTR = re.compile(r',?SUBTITLES="[^"]*"')


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
