"""Servers configured otherwise: the feature switched off with WHISPER_ENABLED, and
the hosted engine (against a local fake of the API)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.fake_whisper_api import FakeWhisperAPI, Reply
from tests.fixtures.services import live_server, server_env
from tests.fixtures.speech import SENTENCES, word_error_rate
from tests.helpers import create_project, upload, wait_final

pytestmark = pytest.mark.slow

TEXT = " ".join(SENTENCES)


def wait_transcript(client: httpx.Client, video_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        transcript: dict[str, Any] = client.get(f"/videos/{video_id}").json()["transcript"]
        if transcript["status"] in ("ready", "failed"):
            return transcript
        time.sleep(0.25)
    raise AssertionError(f"transcript of {video_id} not final after {timeout}s")


@pytest.fixture(scope="module")
def api() -> Iterator[FakeWhisperAPI]:
    with FakeWhisperAPI(TEXT).running() as fake:
        yield fake


@pytest.fixture(scope="module")
def openai_client(
    tmp_path_factory: pytest.TempPathFactory, secret: str, api: FakeWhisperAPI
) -> Iterator[httpx.Client]:
    data_dir = tmp_path_factory.mktemp("openai-server")
    env = server_env(
        data_dir,
        f"sqlite+aiosqlite:///{data_dir / 'streamcore.db'}",
        secret,
        STREAMCORE_TRANSCRIBE__ENGINE="openai",
        STREAMCORE_TRANSCRIBE__OPENAI__API_KEY="sk-test",
        STREAMCORE_TRANSCRIBE__OPENAI__BASE_URL=api.base_url,
        STREAMCORE_TRANSCRIBE__OPENAI__BACKOFF_SECONDS="0.01",
        STREAMCORE_TRANSCRIBE__OPENAI__MAX_RETRIES="1",
        STREAMCORE_WORKER__MAX_ATTEMPTS="2",
    )
    with (
        live_server(data_dir, env) as srv,
        httpx.Client(base_url=srv.base_url, headers=srv.auth_headers) as client,
    ):
        yield client


def test_disabled_with_whisper_enabled_false(tmp_path: Path, secret: str, speech: Path) -> None:
    env = server_env(
        tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'streamcore.db'}", secret, WHISPER_ENABLED="0"
    )
    with (
        live_server(tmp_path, env) as srv,
        httpx.Client(base_url=srv.base_url, headers=srv.auth_headers) as client,
    ):
        resp = client.post("/projects", json={"name": "auto", "auto_transcribe": True})
        video = wait_final(client, upload(client, resp.json()["id"], speech / "speech.mp4")["id"])
        assert video["status"] == "ready"
        # Nothing was queued after the transcode, and asking is a clear 503.
        assert video["transcript"]["status"] == "none"
        resp = client.post("/media/transcribe", json={"video_id": video["id"]})
        assert resp.status_code == 503
        assert resp.json() == {
            "error": "ServiceUnavailable",
            "detail": "transcription is disabled on this server (WHISPER_ENABLED)",
        }


def test_hosted_engine_through_the_pipeline(
    openai_client: httpx.Client, api: FakeWhisperAPI, speech: Path
) -> None:
    client = openai_client
    video = wait_final(client, upload(client, create_project(client), speech / "speech.mp4")["id"])
    api.received.clear()
    # One rate limit on the way: the engine waits and tries again.
    api.replies.append(Reply(429, {"error": {"message": "Rate limit"}}, {"Retry-After": "0"}))
    assert client.post("/media/transcribe", json={"video_id": video["id"]}).status_code == 202
    transcript = wait_transcript(client, video["id"])
    assert transcript["status"] == "ready", transcript
    assert transcript["language"] == "en"
    assert len(api.received) == 2
    assert api.received[-1].audio[:4] == b"RIFF"
    data = client.get(transcript["json_url"]).json()
    assert data["engine"] == "openai"
    assert data["model"] == "whisper-1"
    assert word_error_rate(TEXT, client.get(transcript["text_url"]).text) == 0


def test_hosted_engine_outage_fails_the_transcript_not_the_video(
    openai_client: httpx.Client, api: FakeWhisperAPI, speech: Path
) -> None:
    client = openai_client
    video = wait_final(client, upload(client, create_project(client), speech / "speech.mp4")["id"])
    # Two tries per job attempt, two attempts: every one answers 503.
    api.replies.extend(Reply(503, {"error": {"message": "overloaded"}}) for _ in range(4))
    assert client.post("/media/transcribe", json={"video_id": video["id"]}).status_code == 202
    transcript = wait_transcript(client, video["id"], timeout=90)
    assert transcript["status"] == "failed"
    assert transcript["error"]["class"] == "TransientError"
    assert "503" in transcript["error"]["message"]
    video = client.get(f"/videos/{video['id']}").json()
    assert video["status"] == "ready"
    assert video["error"] is None
    # Asking again starts over.
    resp = client.post("/media/transcribe", json={"video_id": video["id"]})
    assert resp.json()["transcript"] == {**transcript, "status": "pending", "error": None}
    assert wait_transcript(client, video["id"])["status"] == "ready"
