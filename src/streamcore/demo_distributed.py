"""`streamcore demo --distributed`: the roadmap's demo flow on the real services of a
distributed deployment (PostgreSQL, S3 or Azure, Kafka, Redis), as configured by the
STREAMCORE_* environment: a project, a recording session, a presigned upload straight
to the object store, ingest, transcode and transcription, then a check in the bucket
itself that every object of the video and its transcript is there.

Without --url it starts one API node (`serve --no-worker`) and one `streamcore worker`
on those services; with --url it uses a running deployment (its workers)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from streamcore.config import Settings
from streamcore.demo import _follow, _healthy, _login, make_test_clip, stop_process_group

TRANSCRIPT_FILES = ("transcript.json", "transcript.txt", "transcript.vtt")
_URI = re.compile(r'URI="([^"]+)"')


def distributed_problems(settings: Settings) -> list[str]:
    """What keeps these settings from being a distributed deployment."""
    problems = []
    if settings.database_url.startswith("sqlite"):
        problems.append("STREAMCORE_DATABASE__URL must name PostgreSQL")
    if settings.storage.backend == "local":
        problems.append("STREAMCORE_STORAGE__BACKEND must be s3 or azure")
    if settings.bus.backend != "kafka":
        problems.append("STREAMCORE_BUS__BACKEND must be kafka")
    if not settings.redis.url:
        problems.append("STREAMCORE_REDIS__URL must name Redis")
    return problems


@contextlib.contextmanager
def _nodes(console: Console, settings: Settings, url: str | None, port: int) -> Iterator[str]:
    """The API's base URL: the given deployment's, or an API node and a worker we start."""
    if url:
        if not _healthy(url.rstrip("/")):
            raise RuntimeError(f"no healthy streamcore at {url}")
        yield url.rstrip("/")
        return
    base = f"http://127.0.0.1:{port}"
    logs = settings.data_dir / "demo-distributed"
    logs.mkdir(parents=True, exist_ok=True)
    commands = {
        "api": ["serve", "--no-worker", "--workers", "1", "--port", str(port)],
        "worker": ["worker"],
    }
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for name, args in commands.items():
            with open(logs / f"{name}.log", "ab") as log:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "streamcore", *args],
                        env=os.environ.copy(),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        deadline = time.monotonic() + 90
        with console.status(f"Starting an API node on {base} and a worker (logs: {logs})"):
            while not _healthy(base):
                if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
                    raise RuntimeError(f"the API node or the worker did not start; see {logs}")
                time.sleep(0.3)
        yield base
    finally:
        for proc in procs:
            stop_process_group(proc)


def _presigned_upload(client: httpx.Client, base: str, body: dict[str, Any], path: Path) -> str:
    """POST /uploads/presign, PUT the bytes to the object store, complete; the video id."""
    resp = client.post(f"{base}/uploads/presign", json=body)
    resp.raise_for_status()
    plan = resp.json()
    with httpx.Client(timeout=None) as store, open(path, "rb") as f:
        if plan["method"] == "single":
            store.put(plan["url"], content=f.read(), headers=plan["headers"]).raise_for_status()
        else:
            for part in plan["parts"]:
                store.put(part["url"], content=f.read(part["size"])).raise_for_status()
    client.post(plan["complete_url"]).raise_for_status()
    return str(plan["asset_id"])


def _wait_transcript(client: httpx.Client, base: str, video_id: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = str(client.get(f"{base}/videos/{video_id}").json()["transcript"]["status"])
        if status in ("ready", "failed") or time.monotonic() > deadline:
            return status
        time.sleep(0.5)


def _playlist_refs(text: str) -> list[str]:
    """Relative URIs a playlist refers to (lines and URI="..." attributes)."""
    refs = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    return refs + _URI.findall(text)


def _path_values(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if "/" in value or "." in value else []
    if isinstance(value, dict):
        return [p for v in value.values() for p in _path_values(v)]
    if isinstance(value, list):
        return [p for v in value for p in _path_values(v)]
    return []


async def bucket_report(settings: Settings, video_id: str) -> dict[str, list[str]]:
    """Every object the video should have, looked up in the bucket: {kind: missing keys},
    with the count of keys checked per kind under "checked:<kind>"."""
    from streamcore.infra import build_infra, build_storage
    from streamcore.videos import layout
    from streamcore.videos import service as videos

    infra = build_infra(settings)
    storage = build_storage(settings)
    try:
        async with infra.transaction() as session:
            asset = await videos.get_asset(session, video_id)
            source, master, derivatives = asset.source_key, asset.playback_key, asset.derivatives
        expected: dict[str, list[str]] = {"source": [source], "hls": [], "derivatives": []}
        pending = [master] if master else []
        while pending:
            playlist = pending.pop()
            expected["hls"].append(playlist)
            if not playlist.endswith(".m3u8") or not await storage.exists(playlist):
                continue
            folder = playlist.rsplit("/", 1)[0]
            for ref in _playlist_refs((await storage.get_bytes(playlist)).decode()):
                (pending if ref.endswith(".m3u8") else expected["hls"]).append(f"{folder}/{ref}")
        for path in _path_values(derivatives):
            expected["derivatives"].append(
                path if path.startswith("assets/") else layout.key(video_id, path)
            )
        prefix = layout.transcript_prefix(video_id)
        expected["transcript"] = [f"{prefix}/{name}" for name in TRANSCRIPT_FILES]
        report: dict[str, list[str]] = {}
        for kind, keys in expected.items():
            report[kind] = [k for k in keys if not await storage.exists(k)]
            report[f"checked:{kind}"] = keys
        return report
    finally:
        await storage.close()
        await infra.close()


def run_distributed_demo(
    console: Console,
    *,
    file: Path | None,
    url: str | None,
    port: int,
    email: str | None,
    password: str | None,
) -> int:
    settings = Settings()
    if problems := distributed_problems(settings):
        console.print("[red]Not a distributed deployment:[/red] " + "; ".join(problems))
        return 2
    if file is None:
        file = settings.data_dir / "demo" / "demo-distributed.mp4"
        make_test_clip(file, seconds=6, size="854x480")
    try:
        with (
            _nodes(console, settings, url, port) as base,
            httpx.Client(timeout=30, auth=_login(base, email, password)) as client,
        ):
            body = {"name": "demo", "auto_transcribe": True}
            project = client.post(f"{base}/projects", json=body).json()["id"]
            rec = client.post(f"{base}/sessions", json={"project_id": project, "name": "demo"})
            rec.raise_for_status()
            session = rec.json()["id"]
            console.print(f"Project {project}, session {session}; presigned upload of {file}")
            upload = {"project_id": project, "filename": file.name, "content_type": "video/mp4",
                      "size": file.stat().st_size, "session_id": session}  # fmt: skip
            video_id = _presigned_upload(client, base, upload, file)
            video = _follow(client, base, video_id)
            if video["status"] != "ready":
                console.print(f"[red]The video ended {video['status']}: {video['error']}[/red]")
                return 1
            transcript = _wait_transcript(client, base, video_id, timeout=300)
        report = asyncio.run(bucket_report(settings, video_id))
    except (httpx.HTTPError, RuntimeError, subprocess.SubprocessError) as exc:
        console.print(f"[red]demo failed: {exc}[/red]")
        return 1
    return _print_report(console, video_id, transcript, report)


def _print_report(
    console: Console, video_id: str, transcript: str, report: dict[str, list[str]]
) -> int:
    table = Table(title=f"objects of video {video_id} in the bucket")
    for col in ("kind", "checked", "missing"):
        table.add_column(col)
    kinds = [k for k in report if not k.startswith("checked:")]
    for kind in kinds:
        table.add_row(kind, str(len(report[f"checked:{kind}"])), str(len(report[kind])))
    console.print(table)
    missing = [key for kind in kinds for key in report[kind]]
    console.print(f"video ready; transcript {transcript}")
    if missing or transcript != "ready" or not report["checked:hls"][1:]:
        console.print(
            "[red]Incomplete:[/red] " + (", ".join(missing) or f"transcript {transcript}")
        )
        return 1
    console.print("[green]Every object of the video and its transcript is in the bucket.[/green]")
    return 0
