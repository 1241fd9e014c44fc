"""The offline engine on espeak-ng speech, with the model that ships as a package."""

from __future__ import annotations

import wave
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from streamcore.adapters.transcribe.base import EngineMisconfigured, Transcript
from streamcore.adapters.transcribe.whisper import (
    WhisperEngine,
    check_model_dir,
    default_model_dir,
    load_model,
)
from tests.fixtures.speech import SENTENCES, word_error_rate

TEXT = " ".join(SENTENCES)


def assert_well_formed(result: Transcript) -> None:
    assert result.segments
    previous_end = 0.0
    for seg in result.segments:
        assert previous_end - 0.05 <= seg.start < seg.end <= result.duration + 0.5
        previous_end = seg.end
        assert seg.words, seg
        for word in seg.words:
            assert seg.start - 0.05 <= word.start <= word.end <= seg.end + 0.05
            assert word.probability is not None


async def test_transcribes_known_sentences(speech: Path) -> None:
    fractions: list[float] = []

    async def on_progress(fraction: float) -> None:
        fractions.append(fraction)

    result = await WhisperEngine().transcribe(speech / "speech.wav", on_progress=on_progress)
    assert result.language == "en"
    assert result.engine == "whisper"
    assert result.duration == pytest.approx(17, abs=4)
    assert word_error_rate(TEXT, result.text) <= 0.15, result.text
    assert_well_formed(result)
    assert fractions == sorted(fractions)
    assert fractions[-1] == pytest.approx(1.0)


async def test_short_windows_cut_in_pauses_keep_the_words(speech: Path) -> None:
    result = await WhisperEngine(window_seconds=10).transcribe(speech / "speech.wav")
    assert word_error_rate(TEXT, result.text) <= 0.15, result.text
    assert_well_formed(result)
    assert result.segments[-1].end > 10  # later windows are shifted to file time


def test_one_model_per_process() -> None:
    model_dir = default_model_dir()
    assert load_model(model_dir) is load_model(model_dir)
    assert load_model(model_dir).model.is_multilingual is False


def test_a_directory_that_is_not_a_model_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"")
    with pytest.raises(EngineMisconfigured, match=r"missing config\.json, tokenizer\.json"):
        check_model_dir(tmp_path)


async def test_configured_directory_is_used(tmp_path: Path, speech: Path) -> None:
    with pytest.raises(EngineMisconfigured):
        await WhisperEngine(tmp_path).transcribe(speech / "speech.wav")


class MultilingualStub:
    """Stands in for a multilingual faster-whisper model: the first window is silent,
    the next ones say "hallo" and are detected as German."""

    def __init__(self) -> None:
        self.model = SimpleNamespace(is_multilingual=True)
        self.languages: list[str | None] = []

    def transcribe(self, audio: object, *, language: str | None, **options: object) -> Any:
        self.languages.append(language)
        if len(self.languages) == 1:
            return iter([]), SimpleNamespace(language="fr")
        word = SimpleNamespace(start=0.1, end=0.5, word=" hallo", probability=0.9)
        segment = SimpleNamespace(start=0.0, end=1.0, text=" hallo", words=[word])
        return iter([segment]), SimpleNamespace(language=language or "de")


async def test_language_is_detected_once_on_the_first_window_with_speech(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stub = MultilingualStub()

    async def load(self: WhisperEngine) -> MultilingualStub:
        return stub

    monkeypatch.setattr(WhisperEngine, "load", load)
    wav = tmp_path / "a.wav"
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x00\x00" * 16000 * 30)
    result = await WhisperEngine(window_seconds=10).transcribe(wav)
    assert stub.languages == [None, None, "de"]
    assert result.language == "de"
    # Window times became file times.
    assert [round(s.start) for s in result.segments] == [10, 20]
    assert result.segments[0].words[0].text == "hallo"
