"""Speech-to-text seam. An engine reads a 16 kHz mono 16-bit WAV file and returns a
Transcript with timestamps relative to the start of that file. Errors:

    TranscriptionError
      ├── EngineUnavailable    worth retrying later: the hosted API is down, rate
      │                        limited or timing out (after the engine's own retries)
      ├── EngineMisconfigured  no model directory, no or a rejected API key: retrying
      │                        cannot help until an operator fixes the settings
      └── AudioRejected        the engine refused this audio (hosted API 4xx)

Engines call `on_progress(fraction)` between windows; whatever it raises (a
cancellation) propagates unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

ProgressCallback = Callable[[float], Awaitable[None]]

SAMPLE_RATE = 16_000


class TranscriptionError(Exception):
    pass


class EngineUnavailable(TranscriptionError):
    pass


class EngineMisconfigured(TranscriptionError):
    pass


class AudioRejected(TranscriptionError):
    pass


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float | None = None


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass
class Transcript:
    # ISO 639-1 code, or None when the engine could not tell.
    language: str | None
    duration: float
    segments: list[Segment] = field(default_factory=list)
    engine: str = ""
    model: str = ""

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())


class TranscriptionEngine(Protocol):
    name: str

    @property
    def model(self) -> str:
        """What the transcript says it was made with (a model name or directory)."""
        ...

    async def transcribe(
        self,
        wav: Path,
        *,
        language: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Transcript:
        """Transcribe a 16 kHz mono s16 WAV file. `language` forces the language;
        None detects it (multilingual models) or uses the model's only one."""
        ...


def shift(segment: Segment, offset: float) -> Segment:
    """The segment moved by offset seconds (window time to file time)."""
    return Segment(
        start=round(segment.start + offset, 3),
        end=round(segment.end + offset, 3),
        text=segment.text,
        words=tuple(
            Word(round(w.start + offset, 3), round(w.end + offset, 3), w.text, w.probability)
            for w in segment.words
        ),
    )
