"""Pure rendering of a transcript as JSON and plain text (WebVTT is in webvtt.py).

A transcript is anything with the attributes below; the transcription seam's
`Transcript` is one."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from streamcore.media.webvtt import TimedSegment, TimedWord


class ScoredWord(TimedWord, Protocol):
    @property
    def probability(self) -> float | None: ...


class TranscriptSegment(TimedSegment, Protocol):
    @property
    def words(self) -> Sequence[ScoredWord]: ...


class TranscriptDocument(Protocol):
    @property
    def language(self) -> str | None: ...
    @property
    def duration(self) -> float: ...
    @property
    def engine(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def segments(self) -> Sequence[TranscriptSegment]: ...


def to_json(transcript: TranscriptDocument) -> dict[str, Any]:
    return {
        "language": transcript.language,
        "duration": round(transcript.duration, 3),
        "engine": transcript.engine,
        "model": transcript.model,
        "text": transcript.text,
        "segments": [
            {
                "id": i,
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "words": [_word_json(w) for w in s.words],
            }
            for i, s in enumerate(transcript.segments)
        ],
    }


def _word_json(word: ScoredWord) -> dict[str, Any]:
    out: dict[str, Any] = {"word": word.text, "start": word.start, "end": word.end}
    if word.probability is not None:
        out["probability"] = round(word.probability, 4)
    return out


def json_bytes(transcript: TranscriptDocument) -> bytes:
    return json.dumps(to_json(transcript), ensure_ascii=False, indent=1).encode()


def to_text(transcript: TranscriptDocument) -> str:
    """One line per segment."""
    lines = [s.text.strip() for s in transcript.segments if s.text.strip()]
    return "\n".join(lines) + ("\n" if lines else "")
