"""`streamcore demo`: a clip all the way to playback through the public HTTP API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import IO

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from streamcore.config import Settings

DEMO_EMAIL = "demo@streamcore.local"


def make_test_clip(path: Path, seconds: int = 10, size: str = "1280x720") -> None:
    """A test pattern with a tone: FFmpeg's lavfi sources, no input file needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-shortest", str(path),
        ],
        check=True,
    )  # fmt: skip


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def _server(console: Console, url: str | None, port: int) -> Iterator[tuple[str, bool]]:
    """A running server's base URL and whether we started it."""
    if url:
        if not _healthy(url.rstrip("/")):
            raise RuntimeError(f"no healthy streamcore at {url}")
        yield url.rstrip("/"), False
        return
    base = f"http://127.0.0.1:{port}"
    if _healthy(base):
        console.print(f"Using the streamcore already running at {base}")
        yield base, False
        return
    log_path = Settings().data_dir / "demo-server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamcore", "serve", "--port", str(port)],
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        with console.status(f"Starting streamcore on {base} (log: {log_path})"):
            while not _healthy(base):
                if proc.poll() is not None:
                    raise RuntimeError(f"streamcore exited with {proc.returncode}; see {log_path}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"streamcore did not become healthy; see {log_path}")
                time.sleep(0.2)
        yield base, True
    finally:
        stop_process_group(proc)


def stop_process_group(proc: subprocess.Popen[bytes], grace: float = 15) -> None:
    """SIGTERM a process started with start_new_session, SIGKILL it after grace."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class _BearerAuth(httpx.Auth):
    """Sends the access token; when it has expired (a long transcode outlasts its 15
    minutes), trades the refresh token for a new pair once and retries."""

    requires_response_body = True

    def __init__(self, base: str, tokens: dict[str, str], email: str, password: str) -> None:
        self._base, self._tokens = base, tokens
        # The credentials the web console signs in with.
        self.email, self.password = email, password

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._tokens['access_token']}"
        response = yield request
        if response.status_code != 401:
            return
        refreshed = yield httpx.Request(
            "POST",
            f"{self._base}/auth/refresh",
            json={"refresh_token": self._tokens["refresh_token"]},
        )
        if refreshed.status_code == 200:
            self._tokens = refreshed.json()
            request.headers["Authorization"] = f"Bearer {self._tokens['access_token']}"
            yield request


def _login(base: str, email: str | None, password: str | None) -> httpx.Auth:
    """Log in through the API. Without credentials, the demo user is made (or its
    password reset) in the local database first: the one a self-started server uses."""
    if email is None or password is None:
        from streamcore.auth.bootstrap import ensure_user

        email, password = DEMO_EMAIL, secrets.token_urlsafe(18)
        asyncio.run(ensure_user(Settings(), email, password))
    resp = httpx.post(f"{base}/auth/login", json={"email": email, "password": password}, timeout=30)
    if resp.status_code != 200:
        raise RuntimeError(
            f"login as {email} failed ({resp.status_code} {resp.text.strip()}); "
            "for a server with its own database pass --email and --password"
        )
    tokens: dict[str, str] = resp.json()
    return _BearerAuth(base, tokens, email, password)


class _ProgressReader:
    """A file object that advances a progress bar as httpx reads it."""

    def __init__(self, f: IO[bytes], progress: Progress, task: int) -> None:
        self._f, self._progress, self._task = f, progress, task

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        self._progress.advance(self._task, len(data))  # type: ignore[arg-type]
        return data


def _upload(client: httpx.Client, base: str, project_id: str, path: Path) -> dict[str, object]:
    columns = (
        TextColumn("{task.description:<10}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
    )
    with Progress(*columns) as progress, open(path, "rb") as f:
        task = progress.add_task("upload", total=path.stat().st_size)
        reader = _ProgressReader(f, progress, task)
        resp = client.post(
            f"{base}/{project_id}/upload",
            files={"file": (path.name, reader, "video/mp4")},  # type: ignore[dict-item]
            timeout=None,
        )
    resp.raise_for_status()
    body: dict[str, object] = resp.json()
    return body


def _follow(client: httpx.Client, base: str, video_id: str) -> dict[str, object]:
    """Poll the video until it is ready or failed, with a bar per stage."""
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description:<10}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns) as progress:
        ingest = progress.add_task("ingest", total=1)
        transcode = progress.add_task("transcode", total=100, start=False)
        while True:
            video: dict[str, object] = client.get(f"{base}/videos/{video_id}").json()
            status = video["status"]
            if status in ("transcoding", "ready"):
                progress.update(ingest, completed=1)
                progress.start_task(transcode)
                progress.update(transcode, completed=float(str(video["progress"])))
            if status in ("ready", "failed", "cancelled"):
                return video
            time.sleep(0.5)


def _console_line(base: str, auth: httpx.Auth | None) -> str:
    """Where to sign in to the web console, and as whom."""
    if not isinstance(auth, _BearerAuth):
        return f"Web console: {base}/console"
    return f"Web console: {base}/console (sign in as {auth.email}, password {auth.password})"


def _probe_url(url: str) -> list[dict[str, object]]:
    out = subprocess.run(
        [
            "ffprobe", "-v", "error", "-protocol_whitelist", "http,https,tcp,tls,crypto,hls",
            "-of", "json", "-show_streams", url,
        ],
        capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    streams: list[dict[str, object]] = json.loads(out.stdout).get("streams", [])
    return streams


def run_demo(
    console: Console,
    *,
    file: Path | None,
    url: str | None,
    port: int,
    keep_serving: bool | None,
    email: str | None = None,
    password: str | None = None,
) -> int:
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        console.print("[red]FFmpeg is not installed (Debian: apt-get install ffmpeg)[/red]")
        return 2
    if file is None:
        file = Settings().data_dir / "demo" / "demo-720p.mp4"
        with console.status("Making a 10 s 1280x720 test clip with FFmpeg"):
            make_test_clip(file)
    try:
        with (
            _server(console, url, port) as (base, started),
            httpx.Client(timeout=30, auth=_login(base, email, password)) as client,
        ):
            project = client.post(f"{base}/projects", json={"name": "demo"}).json()
            console.print(f"Project [bold]{project['id']}[/bold]; uploading {file}")
            video = _upload(client, base, str(project["id"]), file)
            video = _follow(client, base, str(video["id"]))
            if video["status"] != "ready":
                console.print(f"[red]The video ended {video['status']}: {video['error']}[/red]")
                return 1
            playback = str(video["playback_url"])
            streams = _probe_url(playback)
            table = Table(title="ffprobe over HTTP, through the signed playback URL")
            for col in ("variant", "type", "codec", "size"):
                table.add_column(col)
            for s in streams:
                size = f"{s.get('width')}x{s.get('height')}" if s.get("width") else ""
                variant = str((s.get("tags") or {}).get("variant_bitrate", ""))  # type: ignore[attr-defined]
                table.add_row(variant, str(s.get("codec_type")), str(s.get("codec_name")), size)
            console.print(table)
            if not any(s.get("codec_type") == "video" for s in streams):
                console.print("[red]The playback URL has no video stream[/red]")
                return 1
            console.print(f"[green]Ready.[/green] Play it with ffplay, VLC or hls.js:\n{playback}")
            console.print(f"Watch it in a browser (the player to embed):\n{video['embed_url']}")
            console.print(_console_line(base, client.auth), soft_wrap=True)
            if started and (sys.stdin.isatty() if keep_serving is None else keep_serving):
                console.print(f"streamcore keeps serving at {base}; press Ctrl+C to stop.")
                with contextlib.suppress(KeyboardInterrupt):
                    while True:
                        time.sleep(1)
            return 0
    except (httpx.HTTPError, RuntimeError, subprocess.SubprocessError) as exc:
        console.print(f"[red]demo failed: {exc}[/red]")
        return 1
