"""Playback serving against nginx with one worker, in one run, on the same files, with
the same load tool (wrk, Debian `wrk`, one thread):

    .venv/bin/python -m bench.serve [--seconds 10] [--connections 64] [--smoke]

Files: a 1.4 MB segment, a master playlist of 4 renditions and the variant playlist of
a 10-minute video (150 segments of 4 s), in local storage. Every playlist request
uses a token of its own viewer (wrk cycles through 2,000 of them), so nothing is
served from a per-token cache: each answer re-signs every child URL.

Rows: nginx serving the segment as a static file (the reference); `streamcore serve`
(Granian, one process) on the segment, the master and the variant; the same under
uvicorn (the server before Granian); streamcore in nginx mode behind that nginx (token
checked by streamcore, file sent by nginx after X-Accel-Redirect). Goals: segment
>= 0.7 x nginx, nginx mode >= 0.95 x nginx, master >= 3,000 req/s, variant >= 1,500
req/s; p99 latency at --connections.

The machine's load average is printed before and after: on a shared machine re-run
when it is quiet. --smoke runs every row for one second on a small
segment (for the test that keeps this script working).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from tests.fixtures.nginx import free_port, nginx, static_server_block, streamcore_server_block

from streamcore.security.stream_tokens import TokenCodec

ASSET = "benchasset0000000000000000"
NGINX_MODE = "nginx mode (nginx + streamcore on TCP), segment"
NGINX_MODE_UDS = "nginx mode (nginx + streamcore on a unix socket), segment"
SEGMENT = "hls/720p/seg_00000.ts"
VARIANT = "hls/720p/index.m3u8"
MASTER = "hls/master.m3u8"
VIEWERS = 2000

LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "seconds": %%f, "p50_ms": %%f, "p99_ms": %%f, ' ..
    '"errors": %%d, "bad_status": %%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.timeout, e.status))
end
"""


@dataclass
class Row:
    name: str
    rps: float
    ratio: float
    p50_ms: float
    p99_ms: float
    errors: int


def make_files(objects: Path, segment_bytes: int) -> None:
    hls = objects / "assets" / ASSET / "hls"
    (hls / "720p").mkdir(parents=True)
    (hls / "720p" / "seg_00000.ts").write_bytes(os.urandom(segment_bytes))
    segments = "".join(f"#EXTINF:4.000000,\nseg_{i:05d}.ts\n" for i in range(150))
    (hls / "720p" / "index.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXT-X-PLAYLIST-TYPE:VOD\n{segments}#EXT-X-ENDLIST\n"
    )
    rungs = [(5_000_000, 1920, 1080), (2_800_000, 1280, 720), (1_400_000, 854, 480),
             (800_000, 640, 360)]  # fmt: skip
    master = "#EXTM3U\n#EXT-X-VERSION:3\n" + "".join(
        f'#EXT-X-STREAM-INF:BANDWIDTH={b},RESOLUTION={w}x{h},CODECS="avc1.640028,mp4a.40.2"\n'
        f"{h}p/index.m3u8\n"
        for b, w, h in rungs
    )
    (hls / "master.m3u8").write_text(master)


def url_list(work: Path, name: str, codec: TokenCodec, path: str, count: int) -> Path:
    out = work / f"{name}.paths"
    ext = os.path.splitext(path)[1]
    lines = [f"/stream/{codec.issue(ASSET, path, 3600, f'viewer-{i}')}{ext}" for i in range(count)]
    out.write_text("\n".join(lines) + "\n")
    return out


def wrk(base: str, paths: Path, seconds: float, connections: int, work: Path) -> dict[str, float]:
    script = work / f"{paths.stem}.lua"
    script.write_text(LUA % paths)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
         "-s", str(script), base],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def wait_healthy(
    base: str, proc: subprocess.Popen[bytes], log: Path, uds: Path | None = None
) -> None:
    deadline = time.monotonic() + 60
    transport = httpx.HTTPTransport(uds=str(uds)) if uds else None
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()}")
        try:
            with httpx.Client(transport=transport, timeout=2) as client:
                if client.get(f"{base}/health").status_code == 200:
                    return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"server did not start:\n{log.read_text()}")
        time.sleep(0.2)


UVICORN = (
    "import sys, uvicorn; from streamcore.app import asgi_app, create_app; "
    "uvicorn.run(asgi_app(create_app(run_worker=False)), host='127.0.0.1', "
    "port=int(sys.argv[1]), log_level='warning', access_log=False)"
)


@contextmanager
def server(kind: str, env: dict[str, str], work: Path, uds: Path | None = None) -> Iterator[str]:
    """`streamcore serve` (Granian, one process; on a unix socket when uds is given)
    or the same app under uvicorn. Yields its base URL (http://localhost for uds)."""
    port = free_port()
    if kind == "uvicorn":
        argv = [sys.executable, "-c", UVICORN, str(port)]
    else:
        argv = [sys.executable, "-m", "streamcore", "serve", "--no-worker", "--workers", "1",
                "--port", str(port), *(["--uds", str(uds)] if uds else [])]  # fmt: skip
    log = work / f"server-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = "http://localhost" if uds else f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, log, uds)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def check(base: str, paths: Path, size: int | None) -> None:
    """One request before the load: the URL answers 200 (with the segment's size)."""
    first = paths.read_text().splitlines()[0]
    resp = httpx.get(base + first, timeout=10)
    assert resp.status_code == 200, (base + first, resp.status_code, resp.text[:200])
    assert size is None or len(resp.content) == size, len(resp.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5, help="per row and round")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every row")
    parser.add_argument("--smoke", action="store_true", help="one second per row, small files")
    opts = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed; `make setup` installs it (Debian wrk)")
    seconds = 1 if opts.smoke else opts.seconds
    connections = 8 if opts.smoke else opts.connections
    segment_bytes = 64 * 1024 if opts.smoke else 1_400_000
    print(f"load average before: {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        rounds = 1 if opts.smoke else opts.rounds
        rows = run(Path(tmp), opts.smoke, seconds, connections, segment_bytes, rounds)
    print(f"load average after: {os.getloadavg()}")
    report(rows, connections, rounds)
    failed = [r.name for r in rows if r.errors]
    if failed:
        # Errors or non-2xx answers under load make the figures worthless.
        raise SystemExit(f"requests failed in: {', '.join(failed)}")


REF = "nginx (1 worker), static segment"
SEGMENT_ROW = "streamcore serve, segment"
MASTER_ROW = "streamcore serve, master playlist"
VARIANT_ROW = "streamcore serve, variant playlist (150 segments)"


Target = tuple[str, str, Path]  # row name, base URL, URL list


def run(
    work: Path, smoke: bool, seconds: float, connections: int, size: int, rounds: int
) -> list[Row]:
    data = work / "data"
    objects = data / "objects"
    make_files(objects, size)
    secret = secrets.token_urlsafe(32)
    codec = TokenCodec.from_secret(secret)
    count = 50 if smoke else VIEWERS
    urls = {
        p: url_list(work, p.split("/")[-1], codec, p, count) for p in (SEGMENT, MASTER, VARIANT)
    }
    static = work / "static.paths"
    static.write_text(f"/files/assets/{ASSET}/{SEGMENT}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMCORE_")}
    env.update(STREAMCORE_DATA_DIR=str(data), STREAMCORE_SECRET_KEY=secret,
               STREAMCORE_LOG_LEVEL="WARNING")  # fmt: skip
    with ExitStack() as stack:
        port = free_port()
        ref = stack.enter_context(nginx(work / "ref", static_server_block(port, objects), port))
        reference = (REF, ref.base_url, static)
        segment_rows, other_rows = start_servers(stack, work, env, objects, urls, smoke)
        for _, base, paths in [reference, *segment_rows, *other_rows]:
            check(base, paths, size if paths in (static, urls[SEGMENT]) else None)
            wrk(base, paths, 1, connections, work)  # warm-up
        return measure_rounds(
            reference, segment_rows, other_rows, rounds, seconds, connections, work
        )


def start_servers(
    stack: ExitStack, work: Path, env: dict[str, str], objects: Path,
    urls: dict[str, Path], smoke: bool,
) -> tuple[list[Target], list[Target]]:  # fmt: skip
    """Every server at once: streamcore direct, streamcore in nginx mode behind nginx
    (over TCP and over a unix socket) and, unless smoke, the app under uvicorn."""
    nginx_env = {**env, "STREAMCORE_STREAM__LOCAL_DELIVERY": "nginx"}
    direct = stack.enter_context(server("granian", env, work))
    tcp = stack.enter_context(server("granian", nginx_env, work))
    sock = work / "streamcore.sock"
    stack.enter_context(server("granian", nginx_env, work, uds=sock))
    fronts = []
    for upstream in (tcp.removeprefix("http://"), f"unix:{sock}"):
        port = free_port()
        block = streamcore_server_block(port, upstream, objects)
        fronts.append(stack.enter_context(nginx(work / f"front-{port}", block, port)))
    segment_rows = [
        (SEGMENT_ROW, direct, urls[SEGMENT]),
        (NGINX_MODE, fronts[0].base_url, urls[SEGMENT]),
        (NGINX_MODE_UDS, fronts[1].base_url, urls[SEGMENT]),
    ]
    other_rows = [(MASTER_ROW, direct, urls[MASTER]), (VARIANT_ROW, direct, urls[VARIANT])]
    if not smoke:
        uv = stack.enter_context(server("uvicorn", env, work))
        other_rows += [
            ("same app under uvicorn, segment", uv, urls[SEGMENT]),
            ("same app under uvicorn, master playlist", uv, urls[MASTER]),
            ("same app under uvicorn, variant playlist", uv, urls[VARIANT]),
        ]
    return segment_rows, other_rows


def measure_rounds(
    reference: Target, segment_rows: list[Target], other_rows: list[Target],
    rounds: int, seconds: float, connections: int, work: Path,
) -> list[Row]:  # fmt: skip
    """Each round measures every row once, the segment rows between two measurements
    of the reference (their mean is the round's reference), so a change of the shared
    machine's load hits a row and its reference alike. A row's figures are medians
    over the rounds; its ratio, the median of its per-round ratios."""
    samples: dict[str, list[dict[str, float]]] = {}

    def load(targets: list[Target]) -> list[tuple[str, dict[str, float]]]:
        return [(name, wrk(base, p, seconds, connections, work)) for name, base, p in targets]

    for n in range(rounds):
        print(f"round {n + 1}/{rounds}, load {os.getloadavg()[0]:.1f}", flush=True)
        [(_, before)] = load([reference])
        done = load(segment_rows)
        [(_, after)] = load([reference])
        done += load(other_rows)
        mean = {k: (before[k] + after[k]) / 2 for k in before}
        for name, result in [(REF, mean), *done]:
            result["ratio"] = rps(result) / rps(mean)
            samples.setdefault(name, []).append(result)
    return [summarise(name, results) for name, results in samples.items()]


def rps(result: dict[str, float]) -> float:
    return result["requests"] / result["seconds"]


def summarise(name: str, results: list[dict[str, float]]) -> Row:
    return Row(
        name,
        statistics.median(rps(r) for r in results),
        statistics.median(r["ratio"] for r in results),
        statistics.median(r["p50_ms"] for r in results),
        statistics.median(r["p99_ms"] for r in results),
        int(sum(r["errors"] + r["bad_status"] for r in results)),
    )


def report(rows: list[Row], connections: int, rounds: int) -> None:
    print(f"\nwrk -t1 -c{connections}, median of {rounds} round(s); x nginx against {REF}")
    print(
        f"| {'what':<58} | {'req/s':>8} | {'x nginx':>7} | {'p50 ms':>7} | {'p99 ms':>7} | errors |"
    )
    print(f"|{'-' * 60}|{'-' * 10}|{'-' * 9}|{'-' * 9}|{'-' * 9}|--------|")
    for r in rows:
        # A playlist against a static segment says nothing: no ratio for them.
        ratio = f"{r.ratio:7.2f}" if r.name.endswith("segment") else f"{'-':>7}"
        print(f"| {r.name:<58} | {r.rps:8,.0f} | {ratio} | {r.p50_ms:7.2f} | "
              f"{r.p99_ms:7.2f} | {r.errors:6d} |")  # fmt: skip
    by = {r.name: r for r in rows}
    goals = [
        (SEGMENT_ROW, "segment, one process", lambda r: r.ratio >= 0.7, ">= 0.7 x nginx"),
        (NGINX_MODE, "segment, nginx mode (TCP)", lambda r: r.ratio >= 0.95, ">= 0.95 x nginx"),
        (NGINX_MODE_UDS, "segment, nginx mode (unix socket)", lambda r: r.ratio >= 0.95,
         ">= 0.95 x nginx"),
        (MASTER_ROW, "master playlist", lambda r: r.rps >= 3000, ">= 3,000 req/s"),
        (VARIANT_ROW, "variant playlist", lambda r: r.rps >= 1500, ">= 1,500 req/s"),
    ]  # fmt: skip
    print()
    for key, label, ok, goal in goals:
        row = by[key]
        ratio = f" ({row.ratio:.2f} x nginx)" if key.endswith("segment") else ""
        print(f"{label}: {row.rps:,.0f} req/s{ratio}, p99 {row.p99_ms:.1f} ms "
              f"[{'met' if ok(row) else 'MISSED'}: {goal}]")  # fmt: skip


if __name__ == "__main__":
    main()
