"""Pure ladder planning: which renditions to make from a source."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from streamcore.media.probe import MediaInfo

# (short side, video kbit/s, audio kbit/s)
LADDER: tuple[tuple[int, int, int], ...] = (
    (1080, 5000, 128),
    (720, 2800, 128),
    (480, 1400, 128),
    (360, 800, 96),
    (240, 400, 64),
)
AUDIO_ONLY_KBPS = 128
MIN_VIDEO_KBPS = 200
MAX_FPS = 60.0


@dataclass(frozen=True)
class Rendition:
    name: str
    width: int
    height: int
    video_kbps: int
    audio_kbps: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def _scaled(width: int, height: int, short_target: int) -> tuple[int, int]:
    """Dimensions with the short side at short_target, aspect kept, both even."""
    if width >= height:
        return _even(width * short_target / height), _even(short_target)
    return _even(short_target), _even(height * short_target / width)


def plan_ladder(info: MediaInfo) -> list[Rendition]:
    """Rungs at or below the source's short side; a source smaller than the lowest rung
    gets one rendition at its own (even) size."""
    if not info.has_video:
        return [Rendition("audio", 0, 0, 0, AUDIO_ONLY_KBPS)]
    assert info.width is not None
    assert info.height is not None
    short = min(info.width, info.height)
    rungs = [r for r in LADDER if r[0] <= short]
    if not rungs:
        low = LADDER[-1]
        return [Rendition(f"{short}p", _even(info.width), _even(info.height), low[1], low[2])]
    cap = source_video_kbps(info)
    out = []
    for target, vkbps, akbps in rungs:
        w, h = _scaled(info.width, info.height, target)
        kbps = min(vkbps, cap) if cap else vkbps
        out.append(Rendition(f"{target}p", w, h, kbps, akbps if info.has_audio else 0))
    return out


def source_video_kbps(info: MediaInfo) -> int | None:
    """The source's video bitrate (container rate less a typical audio track): no rung
    gets more bits than the source had, which would only grow the files."""
    if not info.bitrate:
        return None
    audio = 128 if info.has_audio else 0
    return max(MIN_VIDEO_KBPS, info.bitrate // 1000 - audio)


def output_fps(info: MediaInfo) -> float | None:
    """The constant output frame rate: the source's average, capped at 60."""
    if info.frame_rate is None:
        return None
    return min(round(info.frame_rate, 3), MAX_FPS)


def needs_fps_filter(info: MediaInfo) -> bool:
    """Whether the frames must be retimed to output_fps: for a variable-frame-rate
    source (or one not known to be constant) and above MAX_FPS. A constant-rate source
    is already at its rate, and the filter would only cost time."""
    if info.frame_rate is None:
        return False
    return info.variable_frame_rate is not False or info.frame_rate > MAX_FPS


def gop_seconds(segment_seconds: int) -> int:
    """2 s GOPs, a divisor of the segment length so segments cut on keyframes."""
    return 2 if segment_seconds % 2 == 0 else segment_seconds


def gop_frames(info: MediaInfo, segment_seconds: int) -> int:
    """Frames per GOP (see gop_seconds)."""
    fps = output_fps(info) or 30.0
    return max(1, round(fps * gop_seconds(segment_seconds)))


def whole_frame_gops(info: MediaInfo, segment_seconds: int) -> bool:
    """Whether every GOP is exactly gop_frames at a constant rate, so a keyframe every
    gop_frames frames lands on every GOP boundary of the output timeline (30, 25, 24,
    60 fps; not 29.97, whose 60 frames last 2.002 s and drift)."""
    fps = output_fps(info)
    if fps is None:
        return False
    exact = info.frame_rate if not needs_fps_filter(info) else fps
    assert exact is not None
    frames = exact * gop_seconds(segment_seconds)
    return abs(frames - round(frames)) < 1e-6 * frames
