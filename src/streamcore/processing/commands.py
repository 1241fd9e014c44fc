"""Pure FFmpeg argument lists. Nothing here starts a process."""

from __future__ import annotations

from pathlib import Path

from streamcore.processing.ladder import Rendition, gop_frames, output_fps
from streamcore.processing.probe import ALLOWED_DEMUXERS, MediaInfo

MASTER_PLAYLIST = "master.m3u8"
VARIANT_PLAYLIST = "index.m3u8"


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
        n = len(renditions)
        # A constant output rate (capped at 60) keeps 2 s GOPs aligned with segments,
        # also for variable-frame-rate sources.
        fps = output_fps(info)
        pre = f"fps={fps:g}," if fps else ""
        chains = [f"[0:v:0]{pre}split={n}" + "".join(f"[s{i}]" for i in range(n))]
        for i, r in enumerate(renditions):
            chains.append(f"[s{i}]scale={r.width}:{r.height}:flags=bicubic,setsar=1[v{i}]")
        args += ["-filter_complex", ";".join(chains)]
        gop = gop_frames(info, segment_seconds)
        codec_args += [
            "-c:v",
            "libx264",
            "-preset",
            preset,
            "-pix_fmt",
            "yuv420p",
            "-g",
            str(gop),
            "-keyint_min",
            str(gop),
            "-sc_threshold",
            "0",
            "-force_key_frames",
            "expr:gte(t,n_forced*2)",
        ]
        for i, r in enumerate(renditions):
            maps += ["-map", f"[v{i}]"]
            codec_args += [
                f"-b:v:{i}",
                f"{r.video_kbps}k",
                f"-maxrate:v:{i}",
                f"{int(r.video_kbps * 1.07)}k",
                f"-bufsize:v:{i}",
                f"{r.video_kbps * 2}k",
            ]
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
