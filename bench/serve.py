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
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--smoke", action="store_true", help="one second per row, small files")
    opts = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed; `make setup` installs it (Debian wrk)")
    seconds = 1 if opts.smoke else opts.seconds
    connections = 8 if opts.smoke else opts.connections
    segment_bytes = 64 * 1024 if opts.smoke else 1_400_000
    print(f"load average before: {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        rows = run(Path(tmp), opts.smoke, seconds, connections, segment_bytes)
    print(f"load average after: {os.getloadavg()}")
    report(rows, connections)


def run(work: Path, smoke: bool, seconds: float, connections: int, size: int) -> list[Row]:
    data = work / "data"
    objects = data / "objects"
    make_files(objects, size)
    secret = secrets.token_urlsafe(32)
    codec = TokenCodec.from_secret(secret)
    count = 50 if smoke else VIEWERS
    segment = url_list(work, "segment", codec, SEGMENT, count)
    master = url_list(work, "master", codec, MASTER, count)
    variant = url_list(work, "variant", codec, VARIANT, count)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMCORE_")}
    env.update(STREAMCORE_DATA_DIR=str(data), STREAMCORE_SECRET_KEY=secret,
               STREAMCORE_LOG_LEVEL="WARNING")  # fmt: skip
    rows: list[Row] = []

    def measure(name: str, base: str, paths: Path, file_size: int | None = None) -> None:
        check(base, paths, file_size)
        wrk(base, paths, min(1.0, seconds), connections, work)  # warm-up
        r = wrk(base, paths, seconds, connections, work)
        rows.append(Row(name, r["requests"] / r["seconds"], r["p50_ms"], r["p99_ms"],
                        int(r["errors"] + r["bad_status"])))  # fmt: skip
        print(f"  {name}: {rows[-1].rps:,.0f} req/s", flush=True)

    with ExitStack() as stack:  # the reference nginx runs for the whole run
        port = free_port()
        ref = stack.enter_context(
            nginx(work / "nginx-static", static_server_block(port, objects), port)
        )
        static = work / "static.paths"
        static.write_text(f"/files/assets/{ASSET}/{SEGMENT}\n")
        measure("nginx (1 worker), static segment", ref.base_url, static, size)
        with server("granian", env, work) as base:
            measure("streamcore serve, segment", base, segment, size)
            measure("streamcore serve, master playlist", base, master)
            measure("streamcore serve, variant playlist (150 segments)", base, variant)
        if not smoke:
            with server("uvicorn", env, work) as base:
                measure("same app under uvicorn, segment", base, segment, size)
                measure("same app under uvicorn, master playlist", base, master)
                measure("same app under uvicorn, variant playlist", base, variant)
        nginx_env = {**env, "STREAMCORE_STREAM__LOCAL_DELIVERY": "nginx"}
        with server("granian", nginx_env, work) as base:
            port = free_port()
            block = streamcore_server_block(port, base.removeprefix("http://"), objects)
            with nginx(work / "nginx-front", block, port) as front:
                measure(NGINX_MODE, front.base_url, segment, size)
        sock = work / "streamcore.sock"
        with server("granian", nginx_env, work, uds=sock):
            port = free_port()
            block = streamcore_server_block(port, f"unix:{sock}", objects)
            with nginx(work / "nginx-front-uds", block, port) as front:
                measure(NGINX_MODE_UDS, front.base_url, segment, size)
    return rows


def report(rows: list[Row], connections: int) -> None:
    ref = rows[0].rps
    print(f"\nwrk -t1 -c{connections}; ratios against {rows[0].name}")
    print(
        f"| {'what':<58} | {'req/s':>8} | {'x nginx':>7} | {'p50 ms':>7} | {'p99 ms':>7} | errors |"
    )
    print(f"|{'-' * 60}|{'-' * 10}|{'-' * 9}|{'-' * 9}|{'-' * 9}|--------|")
    for r in rows:
        print(f"| {r.name:<58} | {r.rps:8,.0f} | {r.rps / ref:7.2f} | {r.p50_ms:7.2f} | "
              f"{r.p99_ms:7.2f} | {r.errors:6d} |")  # fmt: skip
    by = {r.name: r for r in rows}
    goals = [
        ("streamcore serve, segment", "segment, one process", lambda r: r.rps / ref >= 0.7,
         ">= 0.7 x nginx"),
        (NGINX_MODE, "segment, nginx mode (TCP)", lambda r: r.rps / ref >= 0.95,
         ">= 0.95 x nginx"),
        (NGINX_MODE_UDS, "segment, nginx mode (unix socket)", lambda r: r.rps / ref >= 0.95,
         ">= 0.95 x nginx"),
        ("streamcore serve, master playlist", "master playlist", lambda r: r.rps >= 3000,
         ">= 3,000 req/s"),
        ("streamcore serve, variant playlist (150 segments)", "variant playlist",
         lambda r: r.rps >= 1500, ">= 1,500 req/s"),
    ]  # fmt: skip
    print()
    for key, label, ok, goal in goals:
        row = by[key]
        print(f"{label}: {row.rps:,.0f} req/s ({row.rps / ref:.2f} x nginx), p99 "
              f"{row.p99_ms:.1f} ms [{'met' if ok(row) else 'MISSED'}: {goal}]")  # fmt: skip


if __name__ == "__main__":
    main()
