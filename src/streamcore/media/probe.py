"""Pure interpretation of ffprobe output: what the file is and whether we accept it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from streamcore.media.failures import LimitExceeded, ProbeFailed, UnsupportedMedia

# Demuxers for real containers. Everything else (hls, concat, image2, tty, lavfi, sdp,
# rtsp, data, subtitles...) can name other files or URLs, or is not audio/video.
ALLOWED_DEMUXERS = (
    "mov",
    "mp4",
    "m4a",
    "3gp",
    "3g2",
    "mj2",
    "matroska",
    "webm",
    "avi",
    "flv",
    "mpegts",
    "mpeg",
    "ogg",
    "wav",
    "mp3",
    "flac",
    "aac",
    "asf",
    "mxf",
    "wv",
    "aiff",
    "amr",
    "ac3",
    "eac3",
    "caf",
    "m4v",
    "h264",
    "hevc",
    "dv",
)

# Video "codecs" that are really still images or attachments (album art, posters).
STILL_IMAGE_CODECS = frozenset({"mjpeg", "png", "bmp", "gif", "webp", "tiff"})


def probe_args(path: str) -> list[str]:
    return [
        "-v",
        "error",
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        ",".join(ALLOWED_DEMUXERS),
        "-of",
        "json",
        "-show_format",
        "-show_streams",
        path,
    ]


@dataclass(frozen=True)
class MediaInfo:
    format_name: str
    duration: float
    bitrate: int | None
    width: int | None
    height: int | None
    frame_rate: float | None
    video_codec: str | None
    audio_codec: str | None
    # r_frame_rate (the stream's base rate) against avg_frame_rate: True when they
    # differ, so the timestamps do not follow one constant rate. None: not known (a
    # MediaInfo rebuilt from fields stored before this was probed), treated as variable.
    variable_frame_rate: bool | None = None

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    @property
    def demuxer(self) -> str:
        """The demuxer to force on the transcode, so it reads the file the probe saw."""
        return self.format_name.split(",")[0]

    @classmethod
    def from_probe_fields(
        cls,
        *,
        container: str | None,
        duration: float | None,
        bitrate: int | None,
        width: int | None,
        height: int | None,
        frame_rate: float | None,
        video_codec: str | None,
        audio_codec: str | None,
        variable_frame_rate: bool | None = None,
    ) -> MediaInfo:
        """The MediaInfo from the fields an ingest stored (later jobs do not probe again)."""
        return cls(
            format_name=container or "",
            duration=duration or 0.0,
            bitrate=bitrate,
            width=width,
            height=height,
            frame_rate=frame_rate,
            video_codec=video_codec,
            audio_codec=audio_codec,
            variable_frame_rate=variable_frame_rate,
        )


def _rate(value: Any) -> float | None:
    try:
        frac = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        return None
    return float(frac) if frac > 0 else None


# Base and average rates this close apart are one constant rate (container timescales
# round the average: 2997/100 for 30000/1001).
VFR_TOLERANCE = 0.002


def _variable_rate(stream: dict[str, Any]) -> bool | None:
    base, avg = _rate(stream.get("r_frame_rate")), _rate(stream.get("avg_frame_rate"))
    if base is None or avg is None:
        return None
    return abs(base - avg) > VFR_TOLERANCE * base


def _float(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if f == f and f >= 0 else None  # drops NaN


def interpret_probe(
    data: dict[str, Any],
    *,
    max_duration: float,
    max_width: int,
    max_height: int,
) -> MediaInfo:
    fmt = data.get("format")
    streams = data.get("streams")
    if not isinstance(fmt, dict) or not isinstance(streams, list):
        raise ProbeFailed("not a media file ffprobe can read")
    format_name = str(fmt.get("format_name", ""))
    if not any(name in ALLOWED_DEMUXERS for name in format_name.split(",")):
        raise UnsupportedMedia(f"container {format_name or 'unknown'} is not accepted")

    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video"
            and s.get("codec_name") not in STILL_IMAGE_CODECS
            and not (s.get("disposition") or {}).get("attached_pic")
        ),
        None,
    )
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if video is None and audio is None:
        raise UnsupportedMedia("the file has no audio or video stream")

    duration = _float(fmt.get("duration"))
    if duration is None:
        for s in (video, audio):
            if s is not None and (d := _float(s.get("duration"))) is not None:
                duration = d
                break
    if duration is None or duration <= 0:
        raise ProbeFailed("the file has no duration")
    if duration > max_duration:
        raise LimitExceeded(f"duration {duration:.0f}s exceeds the limit of {max_duration:.0f}s")

    width = height = None
    frame_rate = None
    variable = None
    if video is not None:
        width = int(video.get("width") or 0) or None
        height = int(video.get("height") or 0) or None
        if width is None or height is None:
            raise ProbeFailed("the video stream has no dimensions")
        if width > max_width or height > max_height:
            raise LimitExceeded(
                f"resolution {width}x{height} exceeds the limit of {max_width}x{max_height}"
            )
        frame_rate = _rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate"))
        variable = _variable_rate(video)

    raw_bitrate = str(fmt.get("bit_rate") or "")
    return MediaInfo(
        format_name=format_name,
        duration=duration,
        bitrate=int(raw_bitrate) if raw_bitrate.isdigit() else None,
        width=width,
        height=height,
        frame_rate=frame_rate,
        video_codec=str(video.get("codec_name")) if video is not None else None,
        audio_codec=str(audio.get("codec_name")) if audio is not None else None,
        variable_frame_rate=variable,
    )


PLAYLIST_MAGIC = (b"#EXTM3U", b"ffconcat", b"#EXT-X-", b"file ", b"[playlist]", b"<?xml")


def looks_like_text_playlist(head: bytes) -> bool:
    """First bytes of an upload that is a playlist, concat list or similar pointer file."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return any(stripped.startswith(m) for m in PLAYLIST_MAGIC)


_LOG_PREFIX = re.compile(r"^\[[^\]]+ @ 0x[0-9a-f]+\]\s*")


def probe_reason(stderr_tail: str, path: str) -> str:
    """ffprobe's own words, without addresses or our file paths."""
    reasons: list[str] = []
    for line in stderr_tail.splitlines():
        text = _LOG_PREFIX.sub("", line.strip()).replace(f"{path}: ", "")
        if text and path not in text and text not in reasons:
            reasons.append(text)
    detail = "; ".join(reasons[-3:])[:300]
    return f"not a readable media file ({detail})" if detail else "not a readable media file"
