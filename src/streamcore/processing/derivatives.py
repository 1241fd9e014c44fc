"""Pure planning of the derivatives: EBU R128 loudness-normalised mp3/mp4, poster
frames and the storyboard sprite with its WebVTT thumbnails track."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from streamcore.processing.commands import input_args
from streamcore.processing.probe import MediaInfo

MP3_NAME = "audio.mp3"
MP4_NAME = "video.mp4"
# Work file: the normalised AAC track, made beside the ladder, muxed into the mp4 after.
NORMALISED_AAC = "normalised-audio.m4a"
POSTER_WIDTHS = (1280, 640, 320)
# Mean luma (of 16-235) below which a frame is too dark to be a poster.
POSTER_MIN_LUMA = 32
POSTER_WINDOW = 30
POSTER_SEARCH_SECONDS = 60
STORYBOARD_IMAGE = "storyboard.jpg"
STORYBOARD_VTT = "storyboard.vtt"
STORYBOARD_TILE_WIDTH = 160
STORYBOARD_COLUMNS = 10
STORYBOARD_MAX_TILES = 100


@dataclass(frozen=True)
class LoudnessTarget:
    integrated: float = -16.0
    true_peak: float = -1.5
    lra: float = 11.0

    def base(self) -> str:
        return f"loudnorm=I={self.integrated:g}:TP={self.true_peak:g}:LRA={self.lra:g}"


def loudnorm_analyze_args(source: Path, info: MediaInfo, target: LoudnessTarget) -> list[str]:
    """Pass one: measure the audio only; the JSON comes out on stderr."""
    return [
        "-hide_banner", "-nostdin", "-nostats", "-v", "info",
        *input_args(source, info),
        "-map", "0:a:0", "-vn", "-sn", "-dn",
        "-af", f"{target.base()}:print_format=json",
        "-f", "null", "-",
    ]  # fmt: skip


_JSON_BLOCK = re.compile(r"\{[^{}]*\"input_i\"[^{}]*\}", re.S)


def parse_loudnorm(stderr: str) -> dict[str, float] | None:
    """The measured values of pass one, or None when the audio had nothing to measure
    (silence gives -inf, which pass two cannot use)."""
    m = _JSON_BLOCK.search(stderr)
    if m is None:
        return None
    try:
        raw = json.loads(m.group(0))
        values = {k: float(raw[k]) for k in ("input_i", "input_tp", "input_lra", "input_thresh")}
        values["target_offset"] = float(raw["target_offset"])
    except (KeyError, ValueError, json.JSONDecodeError):
        return None
    if not all(math.isfinite(v) for v in values.values()):
        return None
    return values


def loudnorm_filter(target: LoudnessTarget, measured: dict[str, float] | None) -> str:
    """Pass two: linear normalisation with the measured values (single pass if none)."""
    if measured is None:
        return target.base()
    return (
        f"{target.base()}:measured_I={measured['input_i']:.2f}"
        f":measured_TP={measured['input_tp']:.2f}:measured_LRA={measured['input_lra']:.2f}"
        f":measured_thresh={measured['input_thresh']:.2f}:offset={measured['target_offset']:.2f}"
        ":linear=true"
    )


def audio_derivatives_args(
    source: Path, info: MediaInfo, out_dir: Path, audio_filter: str, *, for_mp4: bool
) -> list[str]:
    """Pass two, audio only (so it can run beside the ladder): the normalised mp3 and,
    for videos, the normalised AAC track the mp4 will carry (NORMALISED_AAC)."""
    # loudnorm works at 192 kHz internally; bring it back to 48 kHz.
    chain = f"[0:a:0]{audio_filter},aresample=48000"
    args = ["-hide_banner", "-nostdin", "-nostats", "-v", "error", "-y"]
    args += input_args(source, info)
    if for_mp4:
        args += ["-filter_complex", f"{chain},asplit=2[a_mp4][a_mp3]"]
        args += ["-map", "[a_mp4]", "-c:a", "aac", "-b:a", "160k", "-ac", "2"]
        args += ["-f", "mp4", str(out_dir / NORMALISED_AAC)]
    else:
        args += ["-filter_complex", f"{chain}[a_mp3]"]
    args += ["-map", "[a_mp3]", "-c:a", "libmp3lame", "-b:a", "192k", "-ac", "2"]
    args += ["-f", "mp3", str(out_dir / MP3_NAME)]
    return args


def mp4_mux_args(top_rung_video: Path, audio: Path | None, out_dir: Path) -> list[str]:
    """The progressive mp4: the top rung's H.264 and the normalised AAC, both copied
    (a remux, no encode)."""
    args = ["-hide_banner", "-nostdin", "-nostats", "-v", "error", "-y"]
    args += ["-protocol_whitelist", "file", "-f", "mpegts", "-i", str(top_rung_video)]
    if audio is not None:
        args += ["-protocol_whitelist", "file", "-f", "mp4", "-i", str(audio)]
    args += ["-map", "0:v:0"]
    if audio is not None:
        args += ["-map", "1:a:0"]
    args += ["-c", "copy", "-movflags", "+faststart", "-f", "mp4", str(out_dir / MP4_NAME)]
    return args


def poster_name(width: int) -> str:
    return f"poster-{width}.jpg"


def poster_args(
    top_rung_video: Path, info: MediaInfo, out_dir: Path, *, skip_dark: bool = True
) -> list[str]:
    """Representative frames in a few sizes, from the keyframes (every 2 s) of the top
    rung, our own MPEG-TS: decoding only those is cheap. From 10% in, frames darker than
    POSTER_MIN_LUMA are skipped (fades, black intros), then the `thumbnail` filter picks
    the frame closest to the average of a window, which also skips flash frames. When
    the whole search window is dark, call again with skip_dark=False."""
    assert info.width is not None
    start = min(info.duration * 0.1, 30.0)
    widths = [w for w in POSTER_WIDTHS if w <= info.width] or [info.width - info.width % 2]
    labels = "".join(f"[p{i}]" for i in range(len(widths)))
    graph = "[0:v:0]"
    if skip_dark:
        graph += (
            "signalstats,metadata=mode=select:key=lavfi.signalstats.YAVG"
            f":value={POSTER_MIN_LUMA}:function=greater,"
        )
    graph += f"thumbnail=n={POSTER_WINDOW},split={len(widths)}{labels}"
    for i, w in enumerate(widths):
        graph += f";[p{i}]scale={w}:-2,setsar=1[o{i}]"
    args = ["-hide_banner", "-nostdin", "-nostats", "-v", "error", "-y", "-skip_frame", "nokey"]
    args += ["-ss", f"{start:.3f}", "-t", f"{POSTER_SEARCH_SECONDS}"]
    args += ["-protocol_whitelist", "file", "-f", "mpegts", "-i", str(top_rung_video)]
    args += ["-filter_complex", graph]
    for i, w in enumerate(widths):
        args += ["-map", f"[o{i}]", "-frames:v", "1", "-q:v", "3", str(out_dir / poster_name(w))]
    return args


@dataclass(frozen=True)
class StoryboardPlan:
    interval: float
    tiles: int
    columns: int
    rows: int
    tile_width: int
    tile_height: int


def plan_storyboard(info: MediaInfo) -> StoryboardPlan:
    assert info.width is not None
    assert info.height is not None
    interval = max(1.0, math.ceil(info.duration / STORYBOARD_MAX_TILES))
    tiles = max(1, min(STORYBOARD_MAX_TILES, math.ceil(info.duration / interval)))
    columns = min(STORYBOARD_COLUMNS, tiles)
    rows = math.ceil(tiles / columns)
    tile_h = max(2, round(STORYBOARD_TILE_WIDTH * info.height / info.width / 2) * 2)
    return StoryboardPlan(interval, tiles, columns, rows, STORYBOARD_TILE_WIDTH, tile_h)


def storyboard_args(low_rung_video: Path, out_dir: Path, plan: StoryboardPlan) -> list[str]:
    """From the lowest rung (our own 240p MPEG-TS: cheap to decode in full), one frame
    per interval tiled into one sprite; the last frame is repeated to fill the grid,
    since the tile filter only emits a complete one."""
    graph = (
        f"fps=1/{plan.interval:g},scale={plan.tile_width}:{plan.tile_height},setsar=1,"
        f"tpad=stop_mode=clone:stop={plan.columns * plan.rows},"
        f"tile={plan.columns}x{plan.rows}"
    )
    return [
        "-hide_banner", "-nostdin", "-nostats", "-v", "error", "-y",
        "-protocol_whitelist", "file", "-f", "mpegts", "-i", str(low_rung_video),
        "-map", "0:v:0", "-vf", graph, "-frames:v", "1", "-q:v", "4",
        str(out_dir / STORYBOARD_IMAGE),
    ]  # fmt: skip


def _ts(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def storyboard_vtt(plan: StoryboardPlan, duration: float) -> str:
    """The WebVTT thumbnails track: one cue per tile, `sprite.jpg#xywh=x,y,w,h`."""
    lines = ["WEBVTT", ""]
    for i in range(plan.tiles):
        start = i * plan.interval
        if start >= duration:
            break
        end = min(duration, start + plan.interval)
        x = (i % plan.columns) * plan.tile_width
        y = (i // plan.columns) * plan.tile_height
        lines += [
            f"{_ts(start)} --> {_ts(end)}",
            f"{STORYBOARD_IMAGE}#xywh={x},{y},{plan.tile_width},{plan.tile_height}",
            "",
        ]
    return "\n".join(lines)
