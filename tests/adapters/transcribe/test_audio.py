from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from streamcore.adapters.transcribe.audio import (
    AudioWindow,
    iter_windows,
    quietest_cut,
    wav_duration,
)
from streamcore.adapters.transcribe.base import SAMPLE_RATE, AudioRejected


def write_wav(path: Path, samples: np.ndarray, rate: int = SAMPLE_RATE, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return path


def tone(seconds: float, amplitude: int = 8000) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.int16)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.int16)


def test_windows_cover_the_file_exactly_once(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    samples = rng.integers(-3000, 3000, int(47.3 * SAMPLE_RATE)).astype(np.int16)
    path = write_wav(tmp_path / "a.wav", samples)
    windows = list(iter_windows(path, window_seconds=10, search_seconds=2))
    assert np.array_equal(np.concatenate([w.samples for w in windows]), samples)
    offset = 0.0
    for w in windows[:-1]:
        assert w.offset == pytest.approx(offset)
        assert 8 <= w.duration <= 10
        offset += w.duration
    assert windows[-1].offset == pytest.approx(offset)
    assert wav_duration(path) == pytest.approx(47.3, abs=1e-3)


def test_cuts_fall_in_pauses(tmp_path: Path) -> None:
    # Speech-like bursts with a short pause at 8.2 s and 17.5 s; windows of 10 s.
    samples = np.concatenate([tone(8.0), silence(0.4), tone(9.1), silence(0.4), tone(5.0)])
    path = write_wav(tmp_path / "b.wav", samples)
    windows = list(iter_windows(path, window_seconds=10, search_seconds=4))
    cuts = [w.offset for w in windows[1:]]
    assert len(cuts) == 2
    assert 8.0 < cuts[0] < 8.4
    assert 17.5 < cuts[1] < 17.9


def test_a_short_rest_joins_the_last_window(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "c.wav", np.concatenate([tone(9.0), silence(0.5), tone(2.5)]))
    (only,) = iter_windows(path, window_seconds=10, search_seconds=2)
    assert only.duration == pytest.approx(12.0)
    first, second = iter_windows(path, window_seconds=10, search_seconds=1)
    assert 9.0 < second.offset < 9.5
    assert first.duration + second.duration == pytest.approx(12.0)


def test_quietest_cut_without_room_takes_everything() -> None:
    samples = tone(0.01)
    assert quietest_cut(samples, 0, frame=480) == len(samples)


def test_wav_window_round_trips(tmp_path: Path) -> None:
    window = AudioWindow(0.0, tone(1.0))
    path = tmp_path / "w.wav"
    path.write_bytes(window.as_wav())
    (again,) = iter_windows(path, window_seconds=60)
    assert np.array_equal(again.samples, window.samples)
    assert window.as_float().dtype == np.float32
    assert float(np.abs(window.as_float()).max()) <= 1.0


def test_other_formats_are_rejected(tmp_path: Path) -> None:
    stereo = write_wav(tmp_path / "s.wav", tone(1.0).repeat(2), channels=2)
    with pytest.raises(AudioRejected):
        list(iter_windows(stereo, 10))
    other_rate = write_wav(tmp_path / "r.wav", tone(1.0), rate=44100)
    with pytest.raises(AudioRejected):
        wav_duration(other_rate)
    text = tmp_path / "t.wav"
    text.write_text("not audio")
    with pytest.raises(AudioRejected):
        wav_duration(text)
