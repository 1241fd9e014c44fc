"""The hosted-API engine against a local fake that speaks the API's wire format."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamcore.adapters.transcribe.base import (
    AudioRejected,
    EngineMisconfigured,
    EngineUnavailable,
)
from streamcore.adapters.transcribe.openai import OpenAIEngine, parse_verbose_json, retry_after
from tests.fixtures.fake_whisper_api import FakeWhisperAPI, Reply
from tests.fixtures.speech import SENTENCES, word_error_rate

TEXT = " ".join(SENTENCES)


@pytest.fixture
def api() -> Iterator[FakeWhisperAPI]:
    with FakeWhisperAPI(TEXT).running() as fake:
        yield fake


def engine(api: FakeWhisperAPI, **kwargs: float) -> OpenAIEngine:
    options: dict[str, float] = {"backoff_seconds": 0.01, "max_retries": 2, "timeout": 5.0}
    options.update(kwargs)
    return OpenAIEngine(
        "sk-test",
        base_url=api.base_url,
        max_retries=int(options.pop("max_retries")),
        **options,
    )


async def test_request_and_answer_in_the_api_format(api: FakeWhisperAPI, speech: Path) -> None:
    result = await engine(api).transcribe(speech / "speech.wav")
    (sent,) = api.received
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert sent.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert sent.fields["model"] == ["whisper-1"]
    assert sent.fields["response_format"] == ["verbose_json"]
    assert sent.fields["timestamp_granularities[]"] == ["word", "segment"]
    assert (sent.file_name, sent.file_type) == ("audio.wav", "audio/wav")
    assert sent.audio[:4] == b"RIFF"
    # The API's language name becomes a code.
    assert result.language == "en"
    assert result.engine == "openai"
    assert word_error_rate(TEXT, result.text) == 0
    assert len(result.segments) == len(SENTENCES)
    for seg in result.segments:
        assert seg.words
        assert all(seg.start <= w.start and w.end <= seg.end + 0.01 for w in seg.words)


async def test_long_audio_goes_up_in_windows_with_file_times(
    api: FakeWhisperAPI, speech: Path
) -> None:
    fractions: list[float] = []

    async def on_progress(fraction: float) -> None:
        fractions.append(fraction)

    result = await engine(api, window_seconds=8).transcribe(
        speech / "speech.wav", language="en", on_progress=on_progress
    )
    assert len(api.received) >= 2
    assert all(r.fields["language"] == ["en"] for r in api.received)
    assert all("prompt" not in r.fields for r in api.received)
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts)
    assert result.segments[-1].end == pytest.approx(result.duration, abs=0.05)
    assert fractions[-1] == pytest.approx(1.0)


async def test_429_waits_for_retry_after_then_succeeds(api: FakeWhisperAPI, speech: Path) -> None:
    api.replies.extend(
        [
            Reply(429, {"error": {"message": "Rate limit reached"}}, {"Retry-After": "0.3"}),
            Reply(503, {"error": {"message": "overloaded"}}),
        ]
    )
    started = time.monotonic()
    result = await engine(api).transcribe(speech / "speech.wav")
    assert time.monotonic() - started >= 0.3
    assert len(api.received) == 3
    assert result.text


async def test_5xx_past_the_retries_is_unavailable(api: FakeWhisperAPI, speech: Path) -> None:
    api.replies.extend(Reply(500, {"error": {"message": "boom"}}) for _ in range(3))
    with pytest.raises(EngineUnavailable, match=r"answered 500: boom \(after 3 tries\)"):
        await engine(api).transcribe(speech / "speech.wav")
    assert len(api.received) == 3


async def test_a_long_retry_after_gives_the_job_back(api: FakeWhisperAPI, speech: Path) -> None:
    when = email.utils.formatdate(time.time() + 600, usegmt=True)
    api.replies.append(Reply(429, {"error": {"message": "slow down"}}, {"Retry-After": when}))
    with pytest.raises(EngineUnavailable, match="retry after"):
        await engine(api).transcribe(speech / "speech.wav")
    assert len(api.received) == 1


async def test_timeouts_are_retried_then_unavailable(api: FakeWhisperAPI, speech: Path) -> None:
    api.replies.extend(Reply(delay=1.0) for _ in range(2))
    with pytest.raises(EngineUnavailable, match="timed out"):
        await engine(api, timeout=0.3, max_retries=1).transcribe(speech / "speech.wav")
    assert len(api.received) == 2


async def test_a_rejected_key_is_a_configuration_error(api: FakeWhisperAPI, speech: Path) -> None:
    bad = OpenAIEngine("sk-wrong", base_url=api.base_url, backoff_seconds=0.01)
    with pytest.raises(EngineMisconfigured, match="Incorrect API key"):
        await bad.transcribe(speech / "speech.wav")
    assert len(api.received) == 1
    with pytest.raises(EngineMisconfigured, match="API key"):
        await OpenAIEngine("", base_url=api.base_url).transcribe(speech / "speech.wav")


async def test_a_refused_file_is_rejected_audio(api: FakeWhisperAPI, speech: Path) -> None:
    api.replies.append(Reply(400, {"error": {"message": "Invalid file format."}}))
    with pytest.raises(AudioRejected, match="Invalid file format"):
        await engine(api).transcribe(speech / "speech.wav")


async def test_unreachable_api(speech: Path) -> None:
    with FakeWhisperAPI(TEXT).running() as gone:
        url = gone.base_url
    dead = OpenAIEngine("k", base_url=url, max_retries=1, backoff_seconds=0.01)
    with pytest.raises(EngineUnavailable, match="unreachable"):
        await dead.transcribe(speech / "speech.wav")


def test_retry_after_forms() -> None:
    assert retry_after("2") == 2.0
    assert retry_after("0.5") == 0.5
    assert retry_after(None) is None
    assert retry_after("soon") is None
    past = email.utils.formatdate(time.time() - 60, usegmt=True)
    assert retry_after(past) == 0.0


def test_words_are_grouped_into_their_segments() -> None:
    body = {
        "language": "english",
        "duration": 4.0,
        "text": "Hi there. Bye now.",
        "segments": [
            {"id": 0, "start": 0.0, "end": 2.0, "text": " Hi there."},
            {"id": 1, "start": 2.0, "end": 4.0, "text": " Bye now."},
        ],
        "words": [
            {"word": "Hi", "start": 0.1, "end": 0.5},
            {"word": "there", "start": 0.6, "end": 1.9},
            {"word": "Bye", "start": 2.1, "end": 2.5},
            {"word": "now", "start": 2.6, "end": 3.9},
        ],
    }
    first, second = parse_verbose_json(body)
    assert [w.text for w in first.words] == ["Hi", "there"]
    assert [w.text for w in second.words] == ["Bye", "now"]
    assert first.text == "Hi there."
    (only,) = parse_verbose_json({"text": "just text", "duration": 3.0})
    assert (only.start, only.end, only.text) == (0.0, 3.0, "just text")
