"""Pure planning and FFmpeg arguments of a chunked transcode: a long source cut into
spans on segment boundaries, every video rung of one span per FFmpeg process, and the
whole audio once beside them as its own HLS rendition.

The chunks' segments join into one continuous stream with no discontinuity:
- a span starts on a segment boundary, and keyframes fall every 2 s from its start;
- its output timestamps are shifted by its start (plus TS_OFFSET_SECONDS for every
  chunk, so that no chunk's first timestamps are negative and shifted by the muxer:
  B-frames start decoding before presenting, which otherwise moves chunk 0 alone);
- each chunk's first TS packets carry the discontinuity indicator, so a demuxer that
  reads the chunks one after another accepts the restarted continuity counters.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

from streamcore.media.ffmpeg_args import ladder_video_codec_args, ladder_video_graph
from streamcore.media.ladder import Rendition
from streamcore.media.probe import ALLOWED_DEMUXERS, MediaInfo

# Every output timestamp of a chunked run is the source time plus this (plus the
# MPEG-TS muxer's own 1.4 s); the audio rendition is shifted the same way.
TS_OFFSET_SECONDS = 10.0
AUDIO_DIR = "audio"
AUDIO_GROUP = "audio"
# A last span shorter than this share of a chunk joins the one before it.
MIN_LAST_SHARE = 0.25
# Protocols FFmpeg may use to read a chunk's part of the source: the local file, or a
# presigned URL of our own object store (byte ranges, so only the span is fetched).
REMOTE_PROTOCOLS = "http,https,tcp,tls,crypto"


@dataclass(frozen=True)
class Span:
    index: int
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def _whole_segments(seconds: float, segment_seconds: int) -> float:
    return float(max(1, round(seconds / segment_seconds)) * segment_seconds)


def plan_chunks(
    duration: float,
    *,
    threshold: float,
    chunk_seconds: float,
    first_seconds: float,
    segment_seconds: int,
) -> list[Span]:
    """The spans of a chunked transcode, or [] for a single pass (a source no longer
    than threshold, or threshold 0). Every boundary is a multiple of segment_seconds;
    the first span is short, so the first segments are out soon."""
    if threshold <= 0 or duration <= threshold:
        return []
    chunk = _whole_segments(chunk_seconds, segment_seconds)
    first = min(_whole_segments(first_seconds, segment_seconds), chunk)
    bounds = [0.0, first]
    while bounds[-1] + chunk < duration:
        bounds.append(bounds[-1] + chunk)
    if duration - bounds[-1] < chunk * MIN_LAST_SHARE and len(bounds) > 2:
        bounds.pop()
    bounds.append(duration)
    return [Span(i, a, b) for i, (a, b) in enumerate(itertools.pairwise(bounds))]


def segment_prefix(index: int) -> str:
    """Segment names of chunk `index`: the same on every attempt, so a chunk that runs
    again replaces its own segments and never adds a second set."""
    return f"c{index:04d}_"


def chunk_playlist(index: int) -> str:
    return f"chunk-{index:04d}.m3u8"


def source_input_args(source: str, info: MediaInfo, *, remote: bool) -> list[str]:
    protocols = REMOTE_PROTOCOLS if remote else "file,pipe"
    return [
        "-protocol_whitelist", protocols,
        "-format_whitelist", ",".join(ALLOWED_DEMUXERS),
        "-f", info.demuxer,
    ]  # fmt: skip


def chunk_ladder_args(
    source: str,
    out_dir: Path,
    info: MediaInfo,
    renditions: list[Rendition],
    span: Span,
    *,
    remote: bool = False,
    preset: str = "veryfast",
    segment_seconds: int = 4,
) -> list[str]:
    """Every video rung of one span in one FFmpeg process: out_dir/{rung}/ gets the
    span's segments and a VOD playlist of them (chunk_playlist)."""
    args = ["-hide_banner", "-nostdin", "-v", "error", "-xerror", "-y"]
    # Before -i: an accurate seek (decodes from the keyframe before `start`, outputs
    # from `start`); over HTTP only the byte ranges of the span are read.
    args += ["-ss", f"{span.start:.6f}", "-t", f"{span.duration:.6f}"]
    args += source_input_args(source, info, remote=remote)
    args += ["-i", source]
    args += ["-filter_complex", ladder_video_graph(info, renditions)]
    for i in range(len(renditions)):
        args += ["-map", f"[v{i}]"]
    args += ladder_video_codec_args(info, renditions, preset, segment_seconds)
    stream_map = " ".join(f"v:{i},name:{r.name}" for i, r in enumerate(renditions))
    args += [
        "-an", "-sn", "-dn",
        "-output_ts_offset", f"{span.start + TS_OFFSET_SECONDS:.6f}",
        "-f", "hls",
        "-hls_time", str(segment_seconds),
        "-hls_playlist_type", "vod",
        "-hls_flags", "independent_segments",
        "-hls_segment_type", "mpegts",
        "-hls_ts_options", "mpegts_flags=+initial_discontinuity",
        "-hls_segment_filename", str(out_dir / "%v" / f"{segment_prefix(span.index)}%03d.ts"),
        "-var_stream_map", stream_map,
        "-progress", "pipe:1", "-nostats",
        str(out_dir / "%v" / chunk_playlist(span.index)),
    ]  # fmt: skip
    return args


def audio_rendition_args(
    source: Path, out_dir: Path, info: MediaInfo, kbps: int, *, segment_seconds: int = 4
) -> list[str]:
    """The whole audio once, as the HLS audio rendition of a chunked run, written as an
    EVENT playlist that grows (published while it encodes) in out_dir/AUDIO_DIR/."""
    target = out_dir / AUDIO_DIR
    return [
        "-hide_banner", "-nostdin", "-v", "error", "-xerror", "-y",
        "-protocol_whitelist", "file,pipe",
        "-format_whitelist", ",".join(ALLOWED_DEMUXERS),
        "-f", info.demuxer, "-i", str(source),
        "-map", "0:a:0", "-vn", "-sn", "-dn",
        "-c:a", "aac", "-b:a", f"{kbps}k", "-ac", "2", "-ar", "48000",
        "-output_ts_offset", f"{TS_OFFSET_SECONDS:.6f}",
        "-f", "hls",
        "-hls_time", str(segment_seconds),
        "-hls_playlist_type", "event",
        "-hls_flags", "independent_segments+temp_file",
        "-hls_segment_type", "mpegts",
        "-hls_segment_filename", str(target / "a_%05d.ts"),
        "-progress", "pipe:1", "-nostats",
        str(target / "index.m3u8"),
    ]  # fmt: skip


def chunk_weight(span_duration: float, total: float) -> float:
    """A chunk's share of the video's progress."""
    return span_duration / total if total > 0 else 0.0


def target_duration(segment_seconds: int, longest: float) -> int:
    return max(segment_seconds, math.ceil(longest - 1e-3))
