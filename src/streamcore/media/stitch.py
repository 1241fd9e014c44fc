"""Pure stitching of a chunked run's HLS: each rung's media playlist is the chunks'
segments in order (no re-encode, no discontinuity), and the master lists every rung
with the one audio rendition. Segment lists are (name, duration, bytes)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from streamcore.media.chunks import AUDIO_DIR, AUDIO_GROUP

Segment = tuple[str, float, int]
# Apple's authoring rule: no segment's bitrate above 110 % of BANDWIDTH. The peak is
# at least the encoder's cap (maxrate) with this margin, also before every chunk is in.
PEAK_MARGIN = 1.1
FALLBACK_H264 = "avc1.640028"
AAC_LC = "mp4a.40.2"


def parse_media_playlist(text: str) -> list[tuple[str, float]]:
    """(uri, duration) of each segment of a media playlist."""
    out: list[tuple[str, float]] = []
    duration: float | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",", 1)[0])
        elif line and not line.startswith("#") and duration is not None:
            out.append((line, duration))
            duration = None
    return out


def media_playlist(segments: Sequence[Segment], *, target: int, ended: bool) -> str:
    """The media playlist of a rung: EVENT while chunks are still coming (players
    reload it and it only grows), VOD with an end once the last one is in."""
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:6",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        f"#EXT-X-PLAYLIST-TYPE:{'VOD' if ended else 'EVENT'}",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    for name, duration, _size in segments:
        lines += [f"#EXTINF:{duration:.6f},", name]
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Variant:
    name: str
    width: int
    height: int
    # The encoder's nominal cap for the rung, bits/s (a floor for BANDWIDTH).
    cap_bps: int
    codec: str
    frame_rate: float | None
    segments: tuple[Segment, ...]

    def peak_bps(self) -> int:
        measured = max((size * 8 / d for _n, d, size in self.segments if d > 0.5), default=0.0)
        return math.ceil(max(measured, self.cap_bps * PEAK_MARGIN))

    def average_bps(self) -> int:
        seconds = sum(d for _n, d, _s in self.segments)
        size = sum(s for _n, _d, s in self.segments)
        return math.ceil(size * 8 / seconds) if seconds > 0 else self.cap_bps


def master_playlist(variants: Sequence[Variant], *, audio_bps: int | None) -> str:
    """Every rung (top first, as the single pass writes it) and, when the source has
    sound, the audio rendition every rung plays with."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if audio_bps is not None:
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{AUDIO_GROUP}",NAME="Audio",DEFAULT=YES,'
            f'AUTOSELECT=YES,CHANNELS="2",URI="{AUDIO_DIR}/index.m3u8"'
        )
    audio = math.ceil(audio_bps * PEAK_MARGIN) if audio_bps is not None else 0
    for v in variants:
        codecs = f"{v.codec},{AAC_LC}" if audio_bps is not None else v.codec
        attrs = [
            f"BANDWIDTH={v.peak_bps() + audio}",
            f"AVERAGE-BANDWIDTH={v.average_bps() + (audio_bps or 0)}",
            f"RESOLUTION={v.width}x{v.height}",
            f'CODECS="{codecs}"',
        ]
        if v.frame_rate:
            attrs.append(f"FRAME-RATE={v.frame_rate:.3f}")
        if audio_bps is not None:
            attrs.append(f'AUDIO="{AUDIO_GROUP}"')
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attrs), f"{v.name}/index.m3u8"]
    return "\n".join(lines) + "\n"


def h264_codec(data: bytes) -> str | None:
    """The RFC 6381 codec of the first H.264 sequence parameter set in a stream's bytes
    (`avc1.PPCCLL`: profile, constraint flags, level), or None."""
    for start in (b"\x00\x00\x01\x67", b"\x00\x00\x01\x27"):
        at = data.find(start)
        if at >= 0 and at + 7 <= len(data):
            profile, flags, level = data[at + 4], data[at + 5], data[at + 6]
            return f"avc1.{profile:02x}{flags:02x}{level:02x}"
    return None
