from __future__ import annotations

import itertools
import json

from streamcore.adapters.transcribe.base import Segment, Transcript, Word
from streamcore.transcripts import formats


def sample() -> Transcript:
    words = tuple(
        Word(1.0 + i * 0.5, 1.4 + i * 0.5, w, 0.9)
        for i, w in enumerate(
            ["this", "is", "a", "rather", "long", "segment", "that", "goes", "on", "and", "on"]
        )
    )
    return Transcript(
        language="en",
        duration=12.0,
        segments=[
            Segment(0.0, 0.9, "Hello <world> & friends"),
            Segment(1.0, 6.4, "this is a rather long segment that goes on and on", words),
        ],
        engine="whisper",
        model="tiny.en",
    )


def test_vtt_timestamps() -> None:
    assert formats.vtt_timestamp(0) == "00:00:00.000"
    assert formats.vtt_timestamp(3661.2345) == "01:01:01.234"
    assert formats.vtt_timestamp(-1) == "00:00:00.000"


def test_vtt_escapes_and_numbers_cues() -> None:
    vtt = formats.to_vtt(sample())
    assert vtt.startswith("WEBVTT\n\n1\n00:00:00.000 --> 00:00:00.900\n")
    assert "Hello &lt;world&gt; &amp; friends" in vtt
    assert "X-TIMESTAMP-MAP" not in vtt
    with_map = formats.to_vtt(sample(), mpegts_offset=126000)
    assert with_map.startswith("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n")


def test_long_segments_split_at_words_by_their_times() -> None:
    long_text = " ".join(["word"] * 40)
    words = tuple(Word(i * 0.3, i * 0.3 + 0.25, "word") for i in range(40))
    cues = formats.cues([Segment(0.0, 12.0, long_text, words)])
    assert len(cues) >= 2
    assert all(len(c.text) <= formats.CUE_CHARS for c in cues)
    assert all(c.end - c.start <= formats.CUE_SECONDS + 0.3 for c in cues)
    assert " ".join(c.text for c in cues) == long_text
    assert all(a.end <= b.start for a, b in itertools.pairwise(cues))


def test_long_segments_without_words_split_by_characters() -> None:
    text = " ".join(f"w{i}" for i in range(60))
    cues = formats.cues([Segment(10.0, 30.0, text)])
    assert cues[0].start == 10.0
    assert abs(cues[-1].end - 30.0) < 1e-6
    assert " ".join(c.text for c in cues) == text


def test_overlapping_and_empty_segments() -> None:
    cues = formats.cues(
        [Segment(0.0, 2.0, "one"), Segment(1.5, 3.0, "two"), Segment(3.0, 3.0, "x")]
    )
    assert [(c.start, c.end, c.text) for c in cues] == [(0.0, 1.5, "one"), (1.5, 3.0, "two")]


def test_json_and_text() -> None:
    data = json.loads(formats.json_bytes(sample()))
    assert data["language"] == "en"
    assert data["duration"] == 12.0
    assert data["segments"][0] == {
        "id": 0,
        "start": 0.0,
        "end": 0.9,
        "text": "Hello <world> & friends",
        "words": [],
    }
    assert data["segments"][1]["words"][0] == {
        "word": "this",
        "start": 1.0,
        "end": 1.4,
        "probability": 0.9,
    }
    assert formats.to_text(sample()).splitlines() == [
        "Hello <world> & friends",
        "this is a rather long segment that goes on and on",
    ]
    assert formats.to_text(Transcript("en", 1.0)) == ""
