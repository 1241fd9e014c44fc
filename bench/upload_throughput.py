"""Upload throughput of a live local-storage server against `dd` on the same disk.

    .venv/bin/python bench/upload_throughput.py [--size-mb 2048] [--dir DIR]

Starts `streamcore serve --no-worker` (local storage, SQLite) with its data directory
in DIR, makes a SIZE file there, and times:

  dd         dd if=FILE of=DIR/dd.out bs=1M conv=fdatasync (the disk's sustained write)
  dd-cache   the same without fdatasync (bytes written to the page cache only)
  multipart  curl -F file=@FILE  POST /{project}/upload
  tus        one tus upload (POST, then one PATCH of the whole file with curl -T)

The server does not fsync uploads, so each upload is compared twice: its time plus an
fdatasync of the stored object against `dd conv=fdatasync` (both on disk), and its
time alone against dd without sync (both in the page cache).

curl is the client so that the client's own cost stays small on a 2-core machine.
Each upload is checked (the stored object has the file's size) and removed afterwards.
While an upload runs, the server's RSS is sampled from /proc every 20 ms; the report
is its peak minus its RSS just before the upload. Targets: throughput >= 0.5 x dd,
RSS growth < 64 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

MB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class PeakRss:
    """Samples a process's RSS in a thread while the block runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.baseline = rss_bytes(pid)
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes(self.pid))
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes(self.pid))

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


def make_file(path: Path, size: int) -> None:
    block = os.urandom(16 * MB)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            f.write(block[: min(left, len(block))])
            left -= len(block)
        f.flush()
        os.fsync(f.fileno())


def timed(fn: Callable[[], None]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def fdatasync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)


def drop_file(path: Path) -> None:
    path.unlink(missing_ok=True)
    subprocess.run(["sync"], check=False)


def dd(src: Path, dest: Path, sync: bool) -> float:
    args = ["dd", f"if={src}", f"of={dest}", "bs=1M", "status=none"]
    if sync:
        args.append("conv=fdatasync")
    seconds = timed(lambda: subprocess.run(args, check=True))
    drop_file(dest)
    return seconds


def curl(*args: str) -> dict[str, str]:
    out = subprocess.run(
        ["curl", "-sS", "--fail-with-body", "-D", "-", "-o", "/dev/null", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    headers: dict[str, str] = {}
    for line in out.stdout.splitlines():
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


def login(env: dict[str, str], base: str) -> dict[str, str]:
    """A user made as the README says (`streamcore admin create-user`), logged in."""
    email, password = "bench@streamcore.test", "bench password, long enough"
    subprocess.run(
        [sys.executable, "-m", "streamcore", "admin", "create-user",
         "--email", email, "--password", password],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    resp = httpx.post(f"{base}/auth/login", json={"email": email, "password": password})
    assert resp.status_code == 200, resp.text
    return {"authorization": f"Bearer {resp.json()['access_token']}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=2048)
    parser.add_argument("--dir", type=Path, default=None, help="scratch dir (default: a temp dir)")
    opts = parser.parse_args()
    size = opts.size_mb * MB
    work = Path(tempfile.mkdtemp(prefix="upload-bench-", dir=opts.dir))
    data_dir = work / "data"
    data_dir.mkdir()
    src = work / "source.bin"
    print(f"making a {opts.size_mb} MB file in {work}", flush=True)
    make_file(src, size)

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMCORE_")}
    env.update(
        STREAMCORE_DATA_DIR=str(data_dir),
        STREAMCORE_SECRET_KEY="bench-secret-of-a-reasonable-length-000000",
        STREAMCORE_UPLOAD__MAX_BYTES=str(size * 2),
    )
    log = open(work / "server.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "streamcore", "serve", "--no-worker", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    results: dict[str, float] = {}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("server did not start:\n" + (work / "server.log").read_text())
            time.sleep(0.2)
        auth = login(env, base)
        created = httpx.post(f"{base}/projects", json={"name": "bench"}, headers=auth)
        assert created.status_code == 201, created.text
        project = created.json()["id"]
        served = serving_process(server.pid)
        bearer = f"authorization: {auth['authorization']}"
        objects = data_dir / "objects"

        results["dd_seconds"] = dd(src, data_dir / "dd.out", sync=True)
        results["dd_cache_seconds"] = dd(src, data_dir / "dd.out", sync=False)

        def multipart() -> None:
            out = subprocess.run(
                ["curl", "-sS", "--fail-with-body", "-H", bearer,
                 "-F", f"file=@{src};type=video/mp4", f"{base}/{project}/upload"],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            asset = json.loads(out.stdout)
            stored.append(objects / "assets" / asset["id"] / "source")

        stored: list[Path] = []
        with PeakRss(served) as rss:
            results["multipart_seconds"] = timed(multipart)
            results["multipart_durable_seconds"] = results["multipart_seconds"] + timed(
                lambda: fdatasync(stored[-1])
            )
        results["multipart_rss_growth_mb"] = rss.growth / MB
        assert stored[-1].stat().st_size == size, "stored object has the wrong size"
        drop_file(stored[-1])

        def tus() -> None:
            created = httpx.post(
                f"{base}/uploads/tus/",
                headers={
                    **auth,
                    "Tus-Resumable": "1.0.0",
                    "Upload-Length": str(size),
                    "Upload-Metadata": f"project_id {_b64(project)},filename {_b64('big.bin')}",
                },
            )
            assert created.status_code == 201, created.text
            headers = curl(
                "-X", "PATCH", "-T", str(src), "-H", bearer,
                "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Offset: 0",
                "-H", "Content-Type: application/offset+octet-stream",
                created.headers["location"],
            )  # fmt: skip
            assert headers.get("upload-offset") == str(size), headers
            stored.append(objects / "assets" / headers["x-asset-id"] / "source")

        with PeakRss(served) as rss:
            results["tus_seconds"] = timed(tus)
            results["tus_durable_seconds"] = results["tus_seconds"] + timed(
                lambda: fdatasync(stored[-1])
            )
        results["tus_rss_growth_mb"] = rss.growth / MB
        assert stored[-1].stat().st_size == size, "stored object has the wrong size"
        drop_file(stored[-1])
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        log.close()
        shutil.rmtree(work, ignore_errors=True)

    mbps = {k: size / MB / v for k, v in results.items() if k.endswith("_seconds")}
    print(f"\nfile: {opts.size_mb} MB")
    for name in ("dd", "dd_cache", "multipart", "multipart_durable", "tus", "tus_durable"):
        seconds = results[name + "_seconds"]
        print(f"{name:>18}: {seconds:7.2f} s  {mbps[name + '_seconds']:8.1f} MB/s")
    for method in ("multipart", "tus"):
        durable = results["dd_seconds"] / results[f"{method}_durable_seconds"]
        cached = results["dd_cache_seconds"] / results[f"{method}_seconds"]
        growth = results[f"{method}_rss_growth_mb"]
        ok = "ok" if durable >= 0.5 and growth < 64 else "MISSED"
        print(
            f"{method:>10}: {durable:.2f} x dd (both synced to disk), "
            f"{cached:.2f} x dd (both in page cache); server RSS growth {growth:.1f} MB "
            f"[{ok}: >= 0.5 x dd, < 64 MB]"
        )


def serving_process(pid: int) -> int:
    """The process that handles requests: the server itself, or its one HTTP worker
    when it runs them as children (Granian)."""
    import psutil

    children = psutil.Process(pid).children()
    return children[0].pid if len(children) == 1 else pid


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


if __name__ == "__main__":
    main()
