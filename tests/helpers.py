"""Small client-side helpers for tests that talk to a live server."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

FINAL = {"ready", "failed", "cancelled"}
PLAYER_PROTOCOLS = "file,http,https,tcp,tls,crypto,hls"


def create_project(client: httpx.Client, name: str = "test") -> str:
    resp = client.post("/projects", json={"name": name})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def upload(
    client: httpx.Client, project_id: str, path: Path, name: str | None = None
) -> dict[str, Any]:
    with open(path, "rb") as f:
        resp = client.post(
            f"/{project_id}/upload", files={"file": (name or path.name, f, "video/mp4")}
        )
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


def wait_final(client: httpx.Client, video_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        video: dict[str, Any] = client.get(f"/videos/{video_id}").json()
        if video["status"] in FINAL:
            return video
        time.sleep(0.25)
    raise AssertionError(f"video {video_id} not final after {timeout}s: {video}")


def parse_master(text: str) -> list[dict[str, str]]:
    """The variants of a master playlist: attributes plus the URI line under each."""
    variants = []
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:"):
            attrs = dict(re.findall(r'([A-Z-]+)=("[^"]*"|[^,]*)', line.split(":", 1)[1]))
            attrs = {k: v.strip('"') for k, v in attrs.items()}
            attrs["URI"] = lines[i + 1]
            variants.append(attrs)
    return variants


def ffprobe_json(url: str, *entries: str) -> dict[str, Any]:
    import json

    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-protocol_whitelist",
            PLAYER_PROTOCOLS,
            "-of",
            "json",
            *entries,
            url,
        ],
        capture_output=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr.decode()
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def decode_all(url: str) -> str:
    """Decode every frame behind url with FFmpeg, failing on any error; returns stderr."""
    out = subprocess.run(
        ["ffmpeg", "-hide_banner", "-v", "error", "-xerror",
         "-protocol_whitelist", PLAYER_PROTOCOLS, "-i", url, "-f", "null", "-"],
        capture_output=True,
        timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr.decode()
    return out.stderr.decode()
