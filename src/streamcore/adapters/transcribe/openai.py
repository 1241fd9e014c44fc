"""The hosted Whisper API: `POST {base_url}/audio/transcriptions`, multipart, with
`response_format=verbose_json` and word and segment timestamps.

The API takes files up to 25 MB, so audio goes up in WAV windows of at most ten
minutes (19 MB at 16 kHz mono), each cut in a pause. 429 (honouring Retry-After),
5xx, timeouts and connection errors are retried with exponential backoff; after
`max_retries` the error is EngineUnavailable and the job is retried later.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx

from streamcore.adapters.transcribe.audio import AudioWindow, iter_windows, wav_duration
from streamcore.adapters.transcribe.base import (
    AudioRejected,
    EngineMisconfigured,
    EngineUnavailable,
    ProgressCallback,
    Segment,
    Transcript,
    Word,
    shift,
)
from streamcore.adapters.transcribe.languages import language_code

MAX_WINDOW_SECONDS = 600.0
# A Retry-After longer than this gives the job back to the queue instead of waiting.
MAX_WAIT_SECONDS = 60.0


class OpenAIEngine:
    name = "openai"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = "https://api.openai.com/v1",
        model: str = "whisper-1",
        timeout: float = 300.0,
        max_retries: int = 4,
        backoff_seconds: float = 1.0,
        window_seconds: float = MAX_WINDOW_SECONDS,
    ) -> None:
        self.api_key = api_key
        self.url = base_url.rstrip("/") + "/audio/transcriptions"
        self.model_name = model
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.window_seconds = min(window_seconds, MAX_WINDOW_SECONDS)

    @property
    def model(self) -> str:
        return self.model_name

    async def transcribe(
        self,
        wav: Path,
        *,
        language: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Transcript:
        if not self.api_key:
            raise EngineMisconfigured("the openai engine needs an API key")
        duration = await anyio.to_thread.run_sync(wav_duration, wav)
        windows = iter_windows(wav, self.window_seconds)
        segments: list[Segment] = []
        detected: str | None = None
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                while (window := await anyio.to_thread.run_sync(_next, windows)) is not None:
                    # Each window on its own, without the previous text as a prompt
                    # (which would carry a repetition loop from window to window).
                    body = await self._post(client, window, language or detected)
                    detected = detected or language_code(body.get("language"))
                    segments += [shift(s, window.offset) for s in parse_verbose_json(body)]
                    if on_progress is not None and duration > 0:
                        await on_progress(min(1.0, (window.offset + window.duration) / duration))
        finally:
            windows.close()
        return Transcript(
            language or detected, duration, segments, engine=self.name, model=self.model
        )

    async def _post(
        self,
        client: httpx.AsyncClient,
        window: AudioWindow,
        language: str | None,
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "model": self.model_name,
            "response_format": "verbose_json",
            "timestamp_granularities[]": ["word", "segment"],
        }
        if language:
            data["language"] = language
        audio = await anyio.to_thread.run_sync(window.as_wav)
        headers = {"Authorization": f"Bearer {self.api_key}"}
        reason = ""
        for attempt in range(1, self.max_retries + 2):
            delay = self._backoff(attempt)
            try:
                resp = await client.post(
                    self.url,
                    data=data,
                    files={"file": ("audio.wav", audio, "audio/wav")},
                    headers=headers,
                )
            except httpx.TimeoutException:
                reason = "the transcription API timed out"
            except httpx.TransportError as exc:
                reason = f"the transcription API is unreachable ({type(exc).__name__})"
            else:
                if resp.status_code == 200:
                    return _json_body(resp)
                reason = f"the transcription API answered {resp.status_code}: {_message(resp)}"
                if resp.status_code == 429:
                    delay = retry_after(resp.headers.get("retry-after")) or delay
                    if delay > MAX_WAIT_SECONDS:
                        raise EngineUnavailable(f"{reason} (retry after {delay:.0f}s)")
                elif resp.status_code < 500:
                    raise _client_error(resp.status_code, reason)
            if attempt > self.max_retries:
                break
            await asyncio.sleep(delay)
        raise EngineUnavailable(f"{reason} (after {self.max_retries + 1} tries)")

    def _backoff(self, attempt: int) -> float:
        ceiling = min(MAX_WAIT_SECONDS, self.backoff_seconds * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


def _next(windows: Generator[AudioWindow, None, None]) -> AudioWindow | None:
    return next(windows, None)


def _client_error(status: int, reason: str) -> Exception:
    if status in (401, 403, 404):
        # A bad key, a key without access, or a base URL that is not the API.
        return EngineMisconfigured(reason)
    return AudioRejected(reason)


def _message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
        return str(body["error"]["message"])[:300]
    except (ValueError, KeyError, TypeError):
        return resp.text[:300]


def _json_body(resp: httpx.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError as exc:
        raise EngineUnavailable("the transcription API sent a body that is not JSON") from exc
    if not isinstance(body, dict):
        raise EngineUnavailable("the transcription API sent an unexpected body")
    return body


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def parse_verbose_json(body: dict[str, Any]) -> list[Segment]:
    """Segments of a verbose_json response, each with the words that fall inside it
    (the API lists words separately, for the whole file)."""
    raw_segments = [s for s in body.get("segments") or [] if isinstance(s, dict)]
    words = [
        Word(float(w["start"]), float(w["end"]), str(w["word"]).strip())
        for w in body.get("words") or []
        if isinstance(w, dict) and {"start", "end", "word"} <= w.keys()
    ]
    if not raw_segments and body.get("text"):
        end = float(body.get("duration") or (words[-1].end if words else 0.0))
        raw_segments = [{"start": 0.0, "end": end, "text": body["text"]}]
    starts = [float(s["start"]) for s in raw_segments]
    grouped: list[list[Word]] = [[] for _ in raw_segments]
    for word in words:
        mid = (word.start + word.end) / 2
        # The last segment that starts at or before the word's middle.
        index = max((i for i, start in enumerate(starts) if start <= mid), default=0)
        grouped[index].append(word)
    return [
        Segment(
            start=float(s["start"]),
            end=float(s["end"]),
            text=str(s.get("text", "")).strip(),
            words=tuple(grouped[i]),
        )
        for i, s in enumerate(raw_segments)
    ]
