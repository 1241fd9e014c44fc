from __future__ import annotations

import json

from streamcore.adapters.transcribe.base import Segment, Transcript, Word
from streamcore.media import transcript_formats


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


def scored() -> Transcript:
    words = (Word(1.0, 1.4, "this", 0.912345), Word(1.5, 1.9, "is", None))
    return Transcript(
        language="en",
        duration=12.00049,
        segments=[
            Segment(0.0, 0.9, "Hello <world> & friends"),
            Segment(1.0, 1.9, " this is ", words),
        ],
        engine="whisper",
        model="tiny.en",
    )


def test_json_and_text() -> None:
    data = json.loads(transcript_formats.json_bytes(sample()))
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
    assert transcript_formats.to_text(sample()).splitlines() == [
        "Hello <world> & friends",
        "this is a rather long segment that goes on and on",
    ]
    assert transcript_formats.to_text(Transcript("en", 1.0)) == ""


def test_json_document_shape() -> None:
    data = json.loads(transcript_formats.json_bytes(scored()))
    assert data == {
        "language": "en",
        "duration": 12.0,
        "engine": "whisper",
        "model": "tiny.en",
        "text": "Hello <world> & friends this is",
        "segments": [
            {"id": 0, "start": 0.0, "end": 0.9, "text": "Hello <world> & friends", "words": []},
            {
                "id": 1,
                "start": 1.0,
                "end": 1.9,
                "text": " this is ",
                "words": [
                    {"word": "this", "start": 1.0, "end": 1.4, "probability": 0.9123},
                    {"word": "is", "start": 1.5, "end": 1.9},
                ],
            },
        ],
    }
    # Non-ASCII stays readable.
    accented = Transcript("fr", 1.0, [Segment(0.0, 1.0, "déjà vu")])
    assert "déjà vu".encode() in transcript_formats.json_bytes(accented)
