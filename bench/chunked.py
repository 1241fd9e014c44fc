"""Chunked transcoding benchmark: the same long clip through streamcore three ways, in
one run, from the upload's 201 to `ready`:
  (a) today's single pass (chunking off), one worker using both cores;
  (b) chunked, one worker pinned to one core (taskset);
  (c) chunked, two workers, each pinned to its own core.
Each run is an API node (`serve --no-worker`) with `streamcore worker` processes on a
throwaway PostgreSQL. Prints c/b (goal <= 0.55) and c/a (goal <= 1.0).

Then it times the two kinds of 1080p chunk (the short first one and a full one) with
FFmpeg on one core, and simulates N = 1, 2, 4, 8, 16 workers for a 60-minute 1080p
source from what it measured (chunk times, the per-job overhead and scheduling delay
seen in (b), the audio and stitch times of (c) scaled by length).

    .venv/bin/python -m bench.chunked [--seconds 360] [--size 1280x720] [--chunk 60]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from tests.fixtures.services import live_server, postgres_database, server_env

from bench.chunk_model import Measured, simulate
from bench.pipeline import make_source
from streamcore.media.chunks import Span, chunk_ladder_args, plan_chunks
from streamcore.media.ladder import plan_ladder
from streamcore.media.probe import interpret_probe, probe_args


@contextmanager
def deployment(
    work: Path, name: str, cores: list[str | None], env_extra: dict[str, str]
) -> Iterator[httpx.Client]:
    """API node plus one worker per entry of `cores` (a taskset CPU list, or None)."""
    data = work / name
    with ExitStack() as stack:
        db = stack.enter_context(postgres_database())
        env = server_env(data, db, "bench-secret-" + "x" * 24, **env_extra)
        env.update(STREAMCORE_WORKER__CONCURRENCY="1", STREAMCORE_WORKER__METRICS_PORT="0")
        env["STREAMCORE_LOG_LEVEL"] = "WARNING"
        srv = stack.enter_context(live_server(data, env, "--no-worker"))
        procs = []
        for i, cpu in enumerate(cores):
            pin = ["taskset", "-c", cpu] if cpu is not None else []
            log = open(data / f"worker-{i}.log", "wb")  # noqa: SIM115
            stack.callback(log.close)
            procs.append(subprocess.Popen(
                [*pin, sys.executable, "-m", "streamcore", "worker"],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            ))  # fmt: skip
        try:
            client = stack.enter_context(
                httpx.Client(base_url=srv.base_url, timeout=600, headers=srv.admin_headers)
            )
            deadline = time.monotonic() + 60
            while len(client.get("/admin/stats").json()["workers"]) < len(cores):
                if time.monotonic() > deadline:
                    raise RuntimeError("the workers did not register")
                time.sleep(0.2)
            yield client
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(30)


def run_upload(client: httpx.Client, source: Path) -> tuple[float, float, list[dict[str, Any]]]:
    """(seconds to ready, seconds to first playable, the video's jobs)."""
    project = client.post("/projects", json={"name": "bench"}).json()["id"]
    with open(source, "rb") as f:
        resp = client.post(f"/{project}/upload", files={"file": ("src.mp4", f, "video/mp4")})
    t0 = time.perf_counter()
    video_id = resp.json()["id"]
    playable = ready = None
    while ready is None:
        video = client.get(f"/videos/{video_id}").json()
        now = time.perf_counter() - t0
        if video.get("playback_url") and playable is None:
            playable = now
        if video["status"] in ("ready", "failed"):
            assert video["status"] == "ready", video
            ready = now
        time.sleep(0.1)
    jobs = client.get("/admin/jobs", params={"video_id": video_id}).json()
    return ready, playable or ready, jobs


def _ts(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def job_times(jobs: list[dict[str, Any]], kind: str) -> list[tuple[float, float]]:
    return sorted(
        (_ts(j["started_at"]), _ts(j["finished_at"]))
        for j in jobs
        if j["kind"] == kind and j["started_at"] and j["finished_at"]
    )


def one_core_chunk_seconds(work: Path, size: str, span: Span, preset: str) -> float:
    """FFmpeg alone, on one core: every rung of one chunk of a 1080p source."""
    src = work / f"src-{size}-{int(span.end)}.mp4"
    if not src.exists():
        make_source(src, int(span.end) + 4, size)
    probe = subprocess.run(["ffprobe", *probe_args(str(src))], capture_output=True, check=True)
    info = interpret_probe(json.loads(probe.stdout), max_duration=1e9, max_width=10**5,
                           max_height=10**5)  # fmt: skip
    rungs = plan_ladder(info)
    out = work / f"chunk-{size}-{span.index}"
    for r in rungs:
        (out / r.name).mkdir(parents=True, exist_ok=True)
    args = chunk_ladder_args(str(src), out, info, rungs, span, preset=preset)
    started = time.perf_counter()
    subprocess.run(["taskset", "-c", "0", "ffmpeg", *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=360)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--chunk", type=int, default=60)
    parser.add_argument("--preset", default="veryfast")
    # The size of the source the model projects to (the 60-minute 1080p).
    parser.add_argument("--model-size", default="1920x1080")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="streamcore-chunked-"))
    chunking = {
        "STREAMCORE_MEDIA__PRESET": args.preset,
        "STREAMCORE_MEDIA__CHUNK_THRESHOLD_SECONDS": str(min(120, args.seconds - 1)),
        "STREAMCORE_MEDIA__CHUNK_SECONDS": str(args.chunk),
    }
    try:
        source = work / "source.mp4"
        print(f"making a {args.seconds} s {args.size} 30 fps clip with sound ...", flush=True)
        make_source(source, args.seconds, args.size)
        single = {**chunking, "STREAMCORE_MEDIA__CHUNK_THRESHOLD_SECONDS": "0"}
        runs = {
            "(a) single pass, 1 worker, both cores": ("a", [None], single),
            "(b) chunked, 1 worker on 1 core": ("b", ["0"], chunking),
            "(c) chunked, 2 workers, 1 core each": ("c", ["0", "1"], chunking),
        }
        results = {}
        for label, (name, cores, env) in runs.items():
            with deployment(work, name, cores, env) as c:
                ready, playable, jobs = run_upload(c, source)
            results[name] = (ready, jobs)
            print(f"{label:40} ready {ready:7.1f} s   first playable {playable:5.1f} s", flush=True)
        a, b, cc = (results[k][0] for k in "abc")
        print(f"c/b = {cc / b:.3f}   (goal <= 0.55)")
        print(f"c/a = {cc / a:.3f}   (goal <= 1.0)", flush=True)
        b_jobs, c_jobs = results["b"][1], results["c"][1]
        report_model(work, args, b_jobs, c_jobs)
        print(f"cores: {os.cpu_count()}, preset: {args.preset}, load: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report_model(
    work: Path, args: argparse.Namespace, b_jobs: list[dict[str, Any]], c_jobs: list[dict[str, Any]]
) -> None:
    chunks = job_times(b_jobs, "transcode_chunk")
    gaps = sorted(b[0] - a[1] for a, b in itertools.pairwise(chunks) if b[0] > a[1])
    delay = gaps[len(gaps) // 2] if gaps else 0.0
    spans = plan_chunks(args.seconds, threshold=min(120, args.seconds - 1),
                        chunk_seconds=args.chunk, first_seconds=4, segment_seconds=4)  # fmt: skip
    full = [
        e - s for (s, e), span in zip(chunks, spans, strict=False) if span.duration == args.chunk
    ]
    mid_720 = sorted(full)[len(full) // 2]
    direct_720 = one_core_chunk_seconds(work, args.size, Span(1, 4, 4 + args.chunk), args.preset)
    first_1080 = one_core_chunk_seconds(work, args.model_size, Span(0, 0, 4), args.preset)
    full_1080 = one_core_chunk_seconds(
        work, args.model_size, Span(1, 4, 4 + args.chunk), args.preset
    )
    # The audio and the stitch as (b) ran them: alone on their core, one job at a time.
    audio = job_times(b_jobs, "transcode_audio")
    stitch = job_times(b_jobs, "stitch")
    ingest = job_times(c_jobs, "ingest")
    scale = 3600 / args.seconds
    m = Measured(
        first_chunk=first_1080,
        full_chunk=full_1080,
        chunk_seconds=args.chunk,
        job_overhead=max(0.0, mid_720 - direct_720),
        delay=delay,
        audio=(audio[0][1] - audio[0][0]) * scale if audio else 0.0,
        stitch=(stitch[0][1] - stitch[0][0]) * scale if stitch else 0.0,
        ingest=ingest[0][1] - ingest[0][0] if ingest else 1.0,
    )
    print("\nmeasured (one core):")
    print(f"  {args.size} {args.chunk} s chunk: {mid_720:.1f} s as a job, {direct_720:.1f} s")
    print(f"    as FFmpeg alone: per-job overhead {m.job_overhead:.2f} s")
    print(f"  scheduling delay between jobs: {delay:.2f} s; ingest {m.ingest:.2f} s")
    print(f"  {args.model_size} first chunk (4 s): {first_1080:.2f} s")
    print(f"  {args.model_size} {args.chunk} s chunk: {full_1080:.1f} s")
    print(f"  audio job, scaled to 60 min: {m.audio:.1f} s; stitch, scaled: {m.stitch:.1f} s")
    print(f"\nsimulated, 60-minute {args.model_size} source:")
    print("  workers | ready (min) | first playable (s)")
    for n in (1, 2, 4, 8, 16):
        ready, playable = simulate(m, 3600, n)
        print(f"  {n:7d} | {ready / 60:11.1f} | {playable:18.1f}")


if __name__ == "__main__":
    main()
