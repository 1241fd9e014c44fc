"""Media pipeline benchmark: streamcore against the raw FFmpeg command it wraps.

Makes a 60 s 1920x1080 30 fps clip with sound, then measures in one run:
  (a) the single raw FFmpeg command that produces the same ladder with the same settings,
  (b) streamcore from upload-complete to `ready` (ladder + mp3/mp4 + posters + storyboard),
  (c) streamcore from upload-complete to the first playable segment (watch while encoding).
Prints b/a and c/a, and c in seconds.

    .venv/bin/python -m bench.pipeline [--seconds 60] [--size 1920x1080] [--preset veryfast]
        [--log server.log]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from tests.fixtures.services import live_server, server_env

from streamcore.media.ffmpeg_args import hls_ladder_args
from streamcore.media.ladder import plan_ladder
from streamcore.media.probe import interpret_probe, probe_args


def make_source(path: Path, seconds: int, size: str) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
         "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-b:a", "192k", "-shortest", str(path)],
        check=True,
    )  # fmt: skip


def raw_ffmpeg_seconds(source: Path, work: Path, preset: str) -> float:
    """(a): the ladder command streamcore would run, run by hand."""
    probe = subprocess.run(["ffprobe", *probe_args(str(source))], capture_output=True, check=True)
    info = interpret_probe(
        json.loads(probe.stdout), max_duration=1e9, max_width=10**5, max_height=10**5
    )
    out = work / "raw"
    out.mkdir()
    args = hls_ladder_args(source, out, info, plan_ladder(info), preset=preset)
    started = time.perf_counter()
    subprocess.run(["ffmpeg", *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def streamcore_seconds(
    source: Path, work: Path, preset: str, log: Path | None = None
) -> tuple[float, float]:
    """(b) and (c), timed from the upload's 201 by following the video's event stream.
    With `log`, the server's log (at INFO, with the jobs' timings) is copied there."""
    data = work / "server"
    env = server_env(data, f"sqlite+aiosqlite:///{data / 'db.sqlite'}", "bench-secret",
                     STREAMCORE_MEDIA__PRESET=preset, STREAMCORE_WORKER__CONCURRENCY="1",
                     STREAMCORE_LOG_LEVEL="INFO" if log else "WARNING")  # fmt: skip
    with (
        live_server(data, env) as srv,
        httpx.Client(base_url=srv.base_url, timeout=600, headers=srv.auth_headers) as c,
    ):
        project = c.post("/projects", json={"name": "bench"}).json()["id"]
        with open(source, "rb") as f:
            resp = c.post(f"/{project}/upload", files={"file": ("src.mp4", f, "video/mp4")})
        t0 = time.perf_counter()
        video_id = resp.json()["id"]
        playable_at = ready_at = None
        with c.stream("GET", f"/videos/{video_id}/events") as events:
            for line in events.iter_lines():
                if not line.startswith("data: "):
                    continue
                event = json.loads(line[6:])
                now = time.perf_counter() - t0
                if event["playable"] and playable_at is None:
                    playable_at = now
                if event["type"] == "status" and event["status"] in ("ready", "failed"):
                    assert event["status"] == "ready", event
                    ready_at = now
                    break
        assert playable_at is not None
        assert ready_at is not None
        if log is not None:
            shutil.copyfile(srv.log_path, log)
        return ready_at, playable_at


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--log", type=Path, help="copy the server's INFO log here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="streamcore-bench-"))
    try:
        source = work / "source.mp4"
        print(f"making a {args.seconds} s {args.size} 30 fps clip with sound ...", flush=True)
        make_source(source, args.seconds, args.size)
        a = raw_ffmpeg_seconds(source, work, args.preset)
        print(f"(a) raw FFmpeg ladder:                 {a:7.2f} s", flush=True)
        b, c = streamcore_seconds(source, work, args.preset, args.log)
        print(f"(b) streamcore upload-complete → ready: {b:7.2f} s")
        print(f"(c) streamcore → first playable:       {c:7.2f} s")
        print(f"b/a = {b / a:.3f}   (target ≤ 1.10)")
        print(f"c/a = {c / a:.3f}   c = {c:.2f} s (target ≤ 10 s)")
        print(f"cores: {os.cpu_count()}, preset: {args.preset}")
        print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
