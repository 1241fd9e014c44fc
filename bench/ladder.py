"""Ladder benchmark: streamcore's single-pass HLS ladder against the one a user would
write by hand, in the same run.

Makes a 60 s 1920x1080 30 fps clip with sound, then runs, alternating, --runs times each:
  (plain) one ffmpeg: split + scale per rung (default scaler), libx264 with the same
          preset and -b:v per rung, -g for a 2 s GOP, AAC per variant, HLS with
          var_stream_map;
  (ours)  streamcore's `hls_ladder_args`.
Prints each run's wall and CPU seconds (user + sys of ffmpeg and its threads; the CPU
figure is the steadier one on a shared machine) and the median ratios ours/plain. Then,
for the last outputs of each: the PSNR of every rung against the source scaled to the
rung's size (one bicubic reference for both), and the peak segment bitrate against the
master's BANDWIDTH (Apple: at most 110 %).

    .venv/bin/python -m bench.ladder [--seconds 60] [--size 1920x1080] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.pipeline import make_source
from streamcore.media.ffmpeg_args import MASTER_PLAYLIST, VARIANT_PLAYLIST, hls_ladder_args
from streamcore.media.ladder import Rendition, plan_ladder
from streamcore.media.probe import MediaInfo, interpret_probe, probe_args

PEAK_LIMIT = 1.10
PSNR_LIMIT_DB = 0.5
# The source scaled to each rung with FFmpeg's default scaler: the one the plain ladder
# uses, so the reference favours the plain ladder, never ours.
REFERENCE_SCALER = "bicubic"


def probe(source: Path) -> MediaInfo:
    out = subprocess.run(["ffprobe", *probe_args(str(source))], capture_output=True, check=True)
    return interpret_probe(
        json.loads(out.stdout), max_duration=1e9, max_width=10**5, max_height=10**5
    )


def plain_ladder_args(
    source: Path, out: Path, renditions: list[Rendition], preset: str, fps: float
) -> list[str]:
    """The ladder as one would write it by hand."""
    n = len(renditions)
    graph = f"[0:v]split={n}" + "".join(f"[s{i}]" for i in range(n))
    for i, r in enumerate(renditions):
        graph += f";[s{i}]scale={r.width}:{r.height}[v{i}]"
    args = ["-hide_banner", "-nostdin", "-v", "error", "-y", "-i", str(source)]
    args += ["-filter_complex", graph]
    stream_map = []
    for i, r in enumerate(renditions):
        args += ["-map", f"[v{i}]", "-map", "0:a:0"]
        stream_map.append(f"v:{i},a:{i},name:{r.name}")
    args += ["-c:v", "libx264", "-preset", preset, "-g", str(round(fps * 2))]
    for i, r in enumerate(renditions):
        args += [f"-b:v:{i}", f"{r.video_kbps}k", f"-b:a:{i}", f"{r.audio_kbps}k"]
    args += ["-c:a", "aac", "-ac", "2", "-ar", "48000"]
    args += ["-f", "hls", "-hls_time", "4", "-hls_playlist_type", "vod"]
    args += ["-hls_segment_filename", str(out / "%v" / "seg_%05d.ts")]
    args += ["-master_pl_name", MASTER_PLAYLIST, "-var_stream_map", " ".join(stream_map)]
    return [*args, str(out / "%v" / VARIANT_PLAYLIST)]


def timed(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + sys) of one ffmpeg run."""
    started = time.perf_counter()
    proc = subprocess.Popen(["ffmpeg", *args], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"ffmpeg failed ({status}): {' '.join(args)}")
    return wall, usage.ru_utime + usage.ru_stime


def rung_psnr(source: Path, out: Path, renditions: list[Rendition]) -> list[float]:
    """Mean PSNR (Y, U, V average) of each rung against the source scaled to its size,
    all rungs in one pass over the source."""
    n = len(renditions)
    args = ["-hide_banner", "-nostdin", "-nostats", "-v", "info", "-i", str(source)]
    for r in renditions:
        args += ["-allowed_extensions", "ALL", "-i", str(out / r.name / VARIANT_PLAYLIST)]
    graph = "[0:v]setpts=PTS-STARTPTS,split=" + str(n) + "".join(f"[s{i}]" for i in range(n))
    for i, r in enumerate(renditions):
        graph += (
            f";[s{i}]scale={r.width}:{r.height}:flags={REFERENCE_SCALER}[ref{i}]"
            f";[{i + 1}:v]setpts=PTS-STARTPTS[d{i}];[d{i}][ref{i}]psnr@r{i}[p{i}]"
        )
    args += ["-filter_complex", graph]
    for i in range(n):
        args += ["-map", f"[p{i}]", "-f", "null", "-"]
    err = subprocess.run(["ffmpeg", *args], capture_output=True, text=True, check=True).stderr
    found = dict(re.findall(r"\[psnr@r(\d+) @ [^\]]+\] PSNR .* average:([\d.]+|inf)", err))
    return [float(found[str(i)]) for i in range(n)]


def peak_ratios(out: Path, renditions: list[Rendition]) -> list[float]:
    """Each variant's highest segment bitrate over the BANDWIDTH the master gives it."""
    master = (out / MASTER_PLAYLIST).read_text()
    bandwidth = {
        uri.split("/")[0]: int(bw)
        for bw, uri in re.findall(r"BANDWIDTH=(\d+)[^\n]*\n([^\n#]+)", master)
    }
    ratios = []
    for r in renditions:
        text = (out / r.name / VARIANT_PLAYLIST).read_text()
        peak = 0.0
        for extinf, name in re.findall(r"#EXTINF:([\d.]+),\s*\n([^\n]+)", text):
            bits = (out / r.name / name.strip()).stat().st_size * 8
            peak = max(peak, bits / float(extinf))
        ratios.append(peak / bandwidth[r.name])
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="streamcore-bench-ladder-"))
    try:
        source = work / "source.mp4"
        print(f"making a {args.seconds} s {args.size} 30 fps clip with sound ...", flush=True)
        make_source(source, args.seconds, args.size)
        info = probe(source)
        renditions = plan_ladder(info)
        print(f"rungs: {' '.join(r.name for r in renditions)}; cores: {os.cpu_count()}")
        commands = {
            "plain": lambda out: plain_ladder_args(
                source, out, renditions, args.preset, info.frame_rate or 30.0
            ),
            "ours": lambda out: hls_ladder_args(source, out, info, renditions, preset=args.preset),
        }
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for run in range(args.runs):
            for name, build in commands.items():
                out = work / name
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir()
                load = os.getloadavg()[0]
                wall, cpu = timed(build(out))
                times[name].append((wall, cpu))
                print(
                    f"run {run + 1} {name:5s} wall {wall:7.2f} s  cpu {cpu:7.2f} s"
                    f"  (load before {load:.2f})",
                    flush=True,
                )
        pairs = list(zip(times["ours"], times["plain"], strict=True))
        wall_ratio = statistics.median(o[0] / p[0] for o, p in pairs)
        cpu_ratio = statistics.median(o[1] / p[1] for o, p in pairs)
        print(f"ours/plain = {wall_ratio:.3f}x wall, {cpu_ratio:.3f}x cpu  (goal ≤ 1.05)")
        report_quality(source, work, renditions)
        print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report_quality(source: Path, work: Path, renditions: list[Rendition]) -> None:
    psnr = {name: rung_psnr(source, work / name, renditions) for name in ("plain", "ours")}
    peaks = {name: peak_ratios(work / name, renditions) for name in ("plain", "ours")}
    print("rung    PSNR plain   PSNR ours   diff    peak/BANDWIDTH plain  ours")
    worst = 0.0
    for i, r in enumerate(renditions):
        diff = psnr["ours"][i] - psnr["plain"][i]
        worst = min(worst, diff)
        print(
            f"{r.name:6s} {psnr['plain'][i]:9.2f} dB {psnr['ours'][i]:8.2f} dB {diff:+6.2f}"
            f"    {peaks['plain'][i]:17.2f} {peaks['ours'][i]:6.2f}"
        )
    peak = max(peaks["ours"])
    print(
        f"worst rung {worst:+.2f} dB (goal ≥ -{PSNR_LIMIT_DB}); "
        f"peak segment {peak:.2f}x BANDWIDTH (goal ≤ {PEAK_LIMIT:.2f})"
    )


if __name__ == "__main__":
    main()
