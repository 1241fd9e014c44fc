from __future__ import annotations

import itertools

from streamcore.adapters.transcribe.base import Segment, Transcript, Word
from streamcore.media import webvtt


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
    assert webvtt.vtt_timestamp(0) == "00:00:00.000"
    assert webvtt.vtt_timestamp(3661.2345) == "01:01:01.234"
    assert webvtt.vtt_timestamp(-1) == "00:00:00.000"


def test_vtt_escapes_and_numbers_cues() -> None:
    vtt = webvtt.to_vtt(sample().segments)
    assert vtt.startswith("WEBVTT\n\n1\n00:00:00.000 --> 00:00:00.900\n")
    assert "Hello &lt;world&gt; &amp; friends" in vtt
    assert "X-TIMESTAMP-MAP" not in vtt
    with_map = webvtt.to_vtt(sample().segments, mpegts_offset=126000)
    assert with_map.startswith("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n")


def test_long_segments_split_at_words_by_their_times() -> None:
    long_text = " ".join(["word"] * 40)
    words = tuple(Word(i * 0.3, i * 0.3 + 0.25, "word") for i in range(40))
    cues = webvtt.cues([Segment(0.0, 12.0, long_text, words)])
    assert len(cues) >= 2
    assert all(len(c.text) <= webvtt.CUE_CHARS for c in cues)
    assert all(c.end - c.start <= webvtt.CUE_SECONDS + 0.3 for c in cues)
    assert " ".join(c.text for c in cues) == long_text
    assert all(a.end <= b.start for a, b in itertools.pairwise(cues))


def test_long_segments_without_words_split_by_characters() -> None:
    text = " ".join(f"w{i}" for i in range(60))
    cues = webvtt.cues([Segment(10.0, 30.0, text)])
    assert cues[0].start == 10.0
    assert abs(cues[-1].end - 30.0) < 1e-6
    assert " ".join(c.text for c in cues) == text


def test_overlapping_and_empty_segments() -> None:
    cues = webvtt.cues([Segment(0.0, 2.0, "one"), Segment(1.5, 3.0, "two"), Segment(3.0, 3.0, "x")])
    assert [(c.start, c.end, c.text) for c in cues] == [(0.0, 1.5, "one"), (1.5, 3.0, "two")]


def test_vtt_timestamp_rounding_and_hours() -> None:
    assert webvtt.vtt_timestamp(59.9995) == "00:01:00.000"  # rounds up across a minute
    assert webvtt.vtt_timestamp(1.0004) == "00:00:01.000"
    assert webvtt.vtt_timestamp(3599.9996) == "01:00:00.000"
    assert webvtt.vtt_timestamp(36000 + 0.5) == "10:00:00.500"
    assert webvtt.vtt_timestamp(100 * 3600) == "100:00:00.000"  # hours do not wrap


def test_escape() -> None:
    assert webvtt.escape("a < b && c > d") == "a &lt; b &amp;&amp; c &gt; d"
    assert webvtt.escape("&lt;") == "&amp;lt;"


def test_short_segment_is_one_cue_with_normalised_spaces() -> None:
    assert webvtt.cues([Segment(1.0, 2.5, "  hello \n  there ")]) == [
        webvtt.Cue(1.0, 2.5, "hello there")
    ]
    # Long in time but short in text: split by characters, here one part.
    (cue,) = webvtt.cues([Segment(0.0, 9.0, "slow")])
    assert (cue.start, cue.end, cue.text) == (0.0, 9.0, "slow")


def test_full_document_wraps_lines_at_42() -> None:
    text = "the quick brown fox jumps over the lazy dog and keeps on running"
    vtt = webvtt.to_vtt([Segment(0.0, 4.0, text)])
    assert vtt == (
        "WEBVTT\n\n1\n00:00:00.000 --> 00:00:04.000\n"
        "the quick brown fox jumps over the lazy\ndog and keeps on running\n"
    )
    assert webvtt.to_vtt([]) == "WEBVTT\n"
