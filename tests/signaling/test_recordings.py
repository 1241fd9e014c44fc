"""A browser's MediaRecorder takes, uploaded in chunks, become assets of the session."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.fixtures.media import ffmpeg
from tests.helpers import wait_final

pytestmark = pytest.mark.slow


def webm_take(path: Path, seconds: int, tone: int) -> bytes:
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=30:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency={tone}:sample_rate=48000:duration={seconds}",
        "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "500k",
        "-c:a", "libopus", "-f", "webm", str(path),
    )  # fmt: skip
    return path.read_bytes()


def test_two_takes_in_chunks_become_assets_of_the_session(
    client: httpx.Client, tmp_path: Path
) -> None:
    project = client.post("/projects", json={"name": "rec"}).json()["id"]
    session = client.post("/sessions", json={"project_id": project}).json()["id"]
    takes = []
    for n, tone in enumerate((440, 660)):
        data = webm_take(tmp_path / f"take{n}.webm", 3, tone)
        take = client.post(f"/sessions/{session}/recordings", json={"name": f"take {n}"}).json()
        assert take["status"] == "awaiting_upload"
        assert take["source"] == "recording"
        base = f"/sessions/{session}/recordings/{take['id']}"
        pieces = [data[i : i + 16_384] for i in range(0, len(data), 16_384)]
        for i, piece in enumerate(pieces):
            assert client.put(f"{base}/chunks/{i}", content=piece).status_code == 204
        # A retried chunk replaces itself.
        assert client.put(f"{base}/chunks/0", content=pieces[0]).status_code == 204
        # Completing with a chunk missing is refused.
        missing = client.post(f"{base}/complete", json={"chunks": len(pieces) + 1})
        assert missing.status_code == 409
        done = client.post(f"{base}/complete", json={"chunks": len(pieces)})
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "uploaded"
        assert done.json()["size_bytes"] == len(data)
        # A completed take takes no more chunks.
        assert client.put(f"{base}/chunks/99", content=b"x").status_code == 409
        takes.append(take["id"])
    for take_id in takes:
        video = wait_final(client, take_id)
        assert video["status"] == "ready", video
        assert video["session_id"] == session
        assert video["probe"]["video_codec"] == "vp8"
        assert video["probe"]["audio_codec"] == "opus"
        assert video["probe"]["duration"] == pytest.approx(3, abs=0.2)


def test_chunks_of_unknown_takes_are_404(client: httpx.Client) -> None:
    project = client.post("/projects", json={"name": "rec"}).json()["id"]
    s1 = client.post("/sessions", json={"project_id": project}).json()["id"]
    s2 = client.post("/sessions", json={"project_id": project}).json()["id"]
    take = client.post(f"/sessions/{s1}/recordings", json={}).json()["id"]
    assert client.put(f"/sessions/{s2}/recordings/{take}/chunks/0", content=b"x").status_code == 404
    missing = f"/sessions/{s1}/recordings/{'0' * 32}/chunks/0"
    assert client.put(missing, content=b"x").status_code == 404
    assert (
        client.put(f"/sessions/{s1}/recordings/{take}/chunks/-1", content=b"x").status_code == 422
    )
