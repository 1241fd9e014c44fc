"""Reading a long WAV file window by window, each window cut in a pause.

Only one window (plus the few seconds carried over to the next) is in memory at a
time, and cutting where the signal is quietest keeps words whole across windows.
Blocking file I/O: call from a worker thread.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from streamcore.adapters.transcribe.base import SAMPLE_RATE, AudioRejected

Samples = npt.NDArray[np.int16]

# Energy is measured over frames of this length when looking for a pause.
FRAME_SECONDS = 0.03


@dataclass(frozen=True)
class AudioWindow:
    offset: float
    samples: Samples

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    def as_float(self) -> npt.NDArray[np.float32]:
        return (self.samples.astype(np.float32) / 32768.0).astype(np.float32)

    def as_wav(self) -> bytes:
        buf = io.BytesIO()
        with wave.open(buf, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(SAMPLE_RATE)
            out.writeframes(self.samples.astype("<i2").tobytes())
        return buf.getvalue()


def quietest_cut(samples: Samples, search_from: int, frame: int) -> int:
    """Index in samples[search_from:] at the start of the quietest frame (the pause
    to cut at). Returns len(samples) when there is no room to search."""
    tail = samples[search_from:].astype(np.float64)
    frames = len(tail) // frame
    if frames < 2:
        return len(samples)
    energy = np.square(tail[: frames * frame]).reshape(frames, frame).mean(axis=1)
    # The last quietest frame: the later the cut, the fewer windows.
    best = frames - 1 - int(np.argmin(energy[::-1]))
    return search_from + best * frame + frame // 2


def wav_duration(path: Path) -> float:
    with _open(path) as wav:
        return wav.getnframes() / SAMPLE_RATE


def iter_windows(
    path: Path, window_seconds: float, search_seconds: float | None = None
) -> Generator[AudioWindow, None, None]:
    """Windows covering the file exactly once; every cut but the last is at the
    quietest point of the window's final search_seconds. A window is at most
    window_seconds long, or up to search_seconds longer when that takes in the rest of
    the file (a last window of a fraction of a second makes Whisper hallucinate)."""
    window = int(window_seconds * SAMPLE_RATE)
    search = int((search_seconds or min(10.0, window_seconds / 4)) * SAMPLE_RATE)
    frame = int(FRAME_SECONDS * SAMPLE_RATE)
    with _open(path) as wav:
        remaining = wav.getnframes()
        carry: Samples = np.zeros(0, dtype=np.int16)
        offset = 0
        while True:
            want = window - len(carry)
            if remaining - want <= search:
                want = remaining
            raw = wav.readframes(want)
            fresh = np.frombuffer(raw, dtype="<i2").astype(np.int16)
            remaining -= len(fresh)
            buf = np.concatenate([carry, fresh]) if len(carry) else fresh
            at_end = remaining <= 0 or len(fresh) < want
            if len(buf) == 0:
                return
            cut = len(buf) if at_end else quietest_cut(buf, len(buf) - search, frame)
            yield AudioWindow(offset / SAMPLE_RATE, buf[:cut])
            offset += cut
            carry = buf[cut:].copy()
            if at_end:
                return


@contextmanager
def _open(path: Path) -> Iterator[wave.Wave_read]:
    try:
        wav = wave.open(str(path), "rb")  # noqa: SIM115  (closed below)
    except (wave.Error, EOFError) as exc:
        raise AudioRejected(f"not a WAV file: {exc}") from exc
    with wav:
        if (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) != (1, 2, SAMPLE_RATE):
            raise AudioRejected("expected 16 kHz mono 16-bit audio")
        yield wav
