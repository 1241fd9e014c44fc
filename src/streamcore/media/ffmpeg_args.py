"""Pure FFmpeg/ffprobe argument lists. Nothing here starts a process."""

from __future__ import annotations

from pathlib import Path

from streamcore.media.ladder import (
    Rendition,
    gop_frames,
    gop_seconds,
    needs_fps_filter,
    output_fps,
    whole_frame_gops,
)
from streamcore.media.loudness import LoudnessTarget
from streamcore.media.probe import ALLOWED_DEMUXERS, MediaInfo
from streamcore.media.storyboard import STORYBOARD_IMAGE, StoryboardPlan

MASTER_PLAYLIST = "master.m3u8"
VARIANT_PLAYLIST = "index.m3u8"
MP3_NAME = "audio.mp3"
MP4_NAME = "video.mp4"
# Work file: the normalised AAC track, made beside the ladder, muxed into the mp4 after.
NORMALISED_AAC = "normalised-audio.m4a"
POSTER_WIDTHS = (1280, 640, 320)
# Mean luma (of 16-235) below which a frame is too dark to be a poster.
POSTER_MIN_LUMA = 32
POSTER_WINDOW = 30
POSTER_SEARCH_SECONDS = 60
# Scaler for the ladder's rungs, each from the one above (see ladder_video_graph).
SCALE_FLAGS = "bicubic"


def input_args(source: Path, info: MediaInfo) -> list[str]:
    """Read one local file with the demuxer the probe saw, and nothing else."""
    return [
        "-protocol_whitelist",
        "file,pipe",
        "-format_whitelist",
        ",".join(ALLOWED_DEMUXERS),
        "-f",
        info.demuxer,
        "-i",
        str(source),
    ]


def hls_ladder_args(
    source: Path,
    out_dir: Path,
    info: MediaInfo,
    renditions: list[Rendition],
    *,
    preset: str = "veryfast",
    segment_seconds: int = 4,
) -> list[str]:
    """One FFmpeg process, one decode, every rung (split filter), HLS + master playlist."""
    args = ["-hide_banner", "-nostdin", "-v", "error", "-xerror", "-y"]
    args += input_args(source, info)
    maps: list[str] = []
    stream_map: list[str] = []
    codec_args: list[str] = []

    if info.has_video:
        args += ["-filter_complex", ladder_video_graph(info, renditions)]
        codec_args += ladder_video_codec_args(info, renditions, preset, segment_seconds)
        for i, r in enumerate(renditions):
            maps += ["-map", f"[v{i}]"]
            entry = f"v:{i}"
            if info.has_audio:
                maps += ["-map", "0:a:0"]
                codec_args += [f"-b:a:{i}", f"{r.audio_kbps}k"]
                entry += f",a:{i}"
            stream_map.append(f"{entry},name:{r.name}")
    else:
        maps += ["-map", "0:a:0"]
        codec_args += ["-b:a:0", f"{renditions[0].audio_kbps}k"]
        stream_map.append(f"a:0,name:{renditions[0].name}")

    if info.has_audio:
        codec_args += ["-c:a", "aac", "-ac", "2", "-ar", "48000"]

    args += maps + codec_args
    args += [
        "-f",
        "hls",
        "-hls_time",
        str(segment_seconds),
        # EVENT while encoding (segments are published as they are written); the
        # publisher turns it into VOD when FFmpeg is done.
        "-hls_playlist_type",
        "event",
        "-hls_flags",
        "independent_segments+temp_file",
        "-hls_segment_type",
        "mpegts",
        "-hls_segment_filename",
        str(out_dir / "%v" / "seg_%05d.ts"),
        "-master_pl_name",
        MASTER_PLAYLIST,
        "-var_stream_map",
        " ".join(stream_map),
        "-progress",
        "pipe:1",
        "-nostats",
        str(out_dir / "%v" / VARIANT_PLAYLIST),
    ]
    return args


def ladder_video_graph(
    info: MediaInfo, renditions: list[Rendition], *, scale_flags: str = SCALE_FLAGS
) -> str:
    """The filter graph from the source's first video stream to one output per rung,
    labelled [v0] (the top rung) to [v{n-1}]: decoded once, split, scaled. A rung at
    most half the size of one above it is scaled from that one (cascaded: 360p from
    720p, 240p from 480p), which reads a quarter of the pixels for the same picture;
    the others from the source, as a cascade of 1.5x steps would blur them."""
    # Constant-rate sources keep their timestamps; the others are retimed to a constant
    # rate (capped at 60) so that GOPs of gop_frames frames stay aligned with segments.
    fps = output_fps(info)
    pre = f"fps={fps:g}," if fps and needs_fps_filter(info) else ""
    parents = scale_parents(renditions)
    from_source = [i for i, p in enumerate(parents) if p is None]
    chains = [f"[0:v:0]{pre}split={len(from_source)}" + "".join(f"[s{i}]" for i in from_source)]
    for i, r in enumerate(renditions):
        kids = [k for k, p in enumerate(parents) if p == i]
        chain = f"[s{i}]" if parents[i] is None else f"[c{i}]"
        chain += f"scale={r.width}:{r.height}:flags={scale_flags},setsar=1"
        if kids:
            chain += f",split={1 + len(kids)}[v{i}]" + "".join(f"[c{k}]" for k in kids)
        else:
            chain += f"[v{i}]"
        chains.append(chain)
    return ";".join(chains)


def scale_parents(renditions: list[Rendition]) -> list[int | None]:
    """For each rung, the smallest rung above it at least twice its size (its short
    side), to be scaled from; None: from the source."""
    parents: list[int | None] = []
    for i, r in enumerate(renditions):
        short = min(r.width, r.height)
        above = [j for j in range(i) if min(renditions[j].width, renditions[j].height) >= 2 * short]
        parents.append(above[-1] if above else None)
    return parents


def ladder_video_codec_args(
    info: MediaInfo, renditions: list[Rendition], preset: str, segment_seconds: int
) -> list[str]:
    """H.264 for every rung (output video streams v:0..v:n-1 in rung order): a keyframe
    on every GOP boundary of the output timeline (from its start), so segments cut on
    them; each rung's bitrate with a peak cap for HLS."""
    gop = gop_frames(info, segment_seconds)
    args = [
        "-c:v", "libx264", "-preset", preset, "-pix_fmt", "yuv420p",
        "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
    ]  # fmt: skip
    if not whole_frame_gops(info, segment_seconds):
        # A rate like 29.97: GOPs of a whole number of frames would drift off the
        # boundaries, so the first frame at or after each one is made a keyframe.
        args += ["-force_key_frames", f"expr:gte(t,n_forced*{gop_seconds(segment_seconds)})"]
    for i, r in enumerate(renditions):
        # VBV caps the peaks: Apple wants every segment within 110 % of BANDWIDTH.
        args += [
            f"-b:v:{i}", f"{r.video_kbps}k",
            f"-maxrate:v:{i}", f"{int(r.video_kbps * 1.07)}k",
            f"-bufsize:v:{i}", f"{r.video_kbps * 2}k",
        ]  # fmt: skip
    return args


def loudnorm_analyze_args(source: Path, info: MediaInfo, target: LoudnessTarget) -> list[str]:
    """Pass one: measure the audio only; the JSON comes out on stderr."""
    return [
        "-hide_banner", "-nostdin", "-nostats", "-v", "info",
        *input_args(source, info),
        "-map", "0:a:0", "-vn", "-sn", "-dn",
        "-af", f"{target.base()}:print_format=json",
        "-f", "null", "-",
    ]  # fmt: skip


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


def extract_audio_args(source: Path, dest: Path, info: MediaInfo, *, sample_rate: int) -> list[str]:
    """The first audio stream as mono 16-bit WAV at the engines' sample_rate, written to
    disk as it decodes (the engines then read it window by window)."""
    return [
        "-hide_banner",
        "-nostdin",
        "-v",
        "error",
        "-y",
        *input_args(source, info),
        "-map",
        "0:a:0",
        "-vn",
        "-sn",
        "-dn",
        "-ac",
        "1",
        "-ar",
        str(sample_rate),
        "-c:a",
        "pcm_s16le",
        "-f",
        "wav",
        "-progress",
        "pipe:1",
        "-nostats",
        str(dest),
    ]


def segment_start_args(segment: Path) -> list[str]:
    """ffprobe of one of our own MPEG-TS segments: each stream's start time."""
    return [
        "-v",
        "error",
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        "mpegts",
        "-of",
        "json",
        "-show_entries",
        "stream=start_time",
        str(segment),
    ]
