"""Pure WebVTT: timestamps, caption cues split to readable sizes, escaping, documents.

Segments and words are anything with the attributes below (the transcription seam's
dataclasses are), so this module needs no types from the rest of streamcore.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

# Caption cues: at most two lines of 42 characters and 7 seconds (common broadcast
# and web captioning limits), split at word boundaries.
LINE_CHARS = 42
CUE_CHARS = 2 * LINE_CHARS
CUE_SECONDS = 7.0


class TimedWord(Protocol):
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def text(self) -> str: ...


class TimedSegment(Protocol):
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def text(self) -> str: ...
    @property
    def words(self) -> Sequence[TimedWord]: ...


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def vtt_timestamp(seconds: float) -> str:
    """`HH:MM:SS.mmm`, rounded to the millisecond; negative times are 0."""
    ms = max(0, round(seconds * 1000))
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


def escape(text: str) -> str:
    """Cue text with the characters WebVTT gives a meaning (`&`, `<`, `>`) escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cues(segments: Sequence[TimedSegment]) -> list[Cue]:
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


def _split_by_words(seg: TimedSegment) -> list[Cue]:
    out: list[Cue] = []
    group: list[TimedWord] = []
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


def to_vtt(segments: Sequence[TimedSegment], *, mpegts_offset: int | None = None) -> str:
    """WebVTT captions. mpegts_offset (90 kHz ticks) adds the X-TIMESTAMP-MAP that HLS
    players need to line cue times up with the MPEG-TS segments' timestamps."""
    head = "WEBVTT"
    if mpegts_offset is not None:
        head += f"\nX-TIMESTAMP-MAP=MPEGTS:{mpegts_offset},LOCAL:00:00:00.000"
    blocks = [head]
    for i, cue in enumerate(cues(segments), start=1):
        lines = "\n".join(escape(line) for line in textwrap.wrap(cue.text, LINE_CHARS))
        blocks.append(f"{i}\n{vtt_timestamp(cue.start)} --> {vtt_timestamp(cue.end)}\n{lines}")
    return "\n\n".join(blocks) + "\n"
