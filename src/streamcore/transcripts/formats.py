"""Pure rendering of a transcript as JSON, plain text and WebVTT."""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from typing import Any

from streamcore.adapters.transcribe.base import Segment, Transcript, Word

# Caption cues: at most two lines of 42 characters and 7 seconds (common broadcast
# and web captioning limits), split at word boundaries.
LINE_CHARS = 42
CUE_CHARS = 2 * LINE_CHARS
CUE_SECONDS = 7.0


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def to_json(transcript: Transcript) -> dict[str, Any]:
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


def _word_json(word: Word) -> dict[str, Any]:
    out: dict[str, Any] = {"word": word.text, "start": word.start, "end": word.end}
    if word.probability is not None:
        out["probability"] = round(word.probability, 4)
    return out


def json_bytes(transcript: Transcript) -> bytes:
    return json.dumps(to_json(transcript), ensure_ascii=False, indent=1).encode()


def to_text(transcript: Transcript) -> str:
    """One line per segment."""
    lines = [s.text.strip() for s in transcript.segments if s.text.strip()]
    return "\n".join(lines) + ("\n" if lines else "")


def vtt_timestamp(seconds: float) -> str:
    ms = max(0, round(seconds * 1000))
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cues(segments: list[Segment]) -> list[Cue]:
    """Caption cues: a segment as one cue when it fits, else split at words (by their
    own timestamps) or, without word timings, in proportion to the characters."""
    out: list[Cue] = []
    for seg in segments:
        text = " ".join(seg.text.split())
        if not text or seg.end <= seg.start:
            continue
        if len(text) <= CUE_CHARS and seg.end - seg.start <= CUE_SECONDS:
            out.append(Cue(seg.start, seg.end, text))
        elif seg.words:
            out += _split_by_words(seg)
        else:
            out += _split_by_chars(seg.start, seg.end, text)
    # Cues never overlap: a player shows overlapping ones stacked.
    for i in range(len(out) - 1):
        if out[i].end > out[i + 1].start:
            out[i] = Cue(out[i].start, max(out[i].start, out[i + 1].start), out[i].text)
    return [c for c in out if c.end > c.start]


def _split_by_words(seg: Segment) -> list[Cue]:
    out: list[Cue] = []
    group: list[Word] = []
    for word in seg.words:
        if not word.text:
            continue
        candidate = " ".join(w.text for w in [*group, word])
        if group and (len(candidate) > CUE_CHARS or word.end - group[0].start > CUE_SECONDS):
            out.append(Cue(group[0].start, group[-1].end, " ".join(w.text for w in group)))
            group = []
        group.append(word)
    if group:
        out.append(
            Cue(group[0].start, max(group[-1].end, seg.end), " ".join(w.text for w in group))
        )
    return out


def _split_by_chars(start: float, end: float, text: str) -> list[Cue]:
    parts = textwrap.wrap(text, CUE_CHARS) or [text]
    per_char = (end - start) / max(1, sum(len(p) for p in parts))
    out, t = [], start
    for part in parts:
        length = len(part) * per_char
        out.append(Cue(t, t + length, part))
        t += length
    return out


def to_vtt(transcript: Transcript, *, mpegts_offset: int | None = None) -> str:
    """WebVTT captions. mpegts_offset (90 kHz ticks) adds the X-TIMESTAMP-MAP that HLS
    players need to line cue times up with the MPEG-TS segments' timestamps."""
    head = "WEBVTT"
    if mpegts_offset is not None:
        head += f"\nX-TIMESTAMP-MAP=MPEGTS:{mpegts_offset},LOCAL:00:00:00.000"
    blocks = [head]
    for i, cue in enumerate(cues(transcript.segments), start=1):
        lines = "\n".join(_escape(line) for line in textwrap.wrap(cue.text, LINE_CHARS))
        blocks.append(f"{i}\n{vtt_timestamp(cue.start)} --> {vtt_timestamp(cue.end)}\n{lines}")
    return "\n\n".join(blocks) + "\n"
