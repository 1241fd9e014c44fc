"""Pure FFmpeg/ffprobe argument lists for transcription."""

from __future__ import annotations

from pathlib import Path

from streamcore.adapters.transcribe.base import SAMPLE_RATE
from streamcore.processing.commands import input_args
from streamcore.processing.probe import MediaInfo


def extract_audio_args(source: Path, dest: Path, info: MediaInfo) -> list[str]:
    """The first audio stream as 16 kHz mono 16-bit WAV, written to disk as it decodes
    (the engines then read it window by window)."""
    return [
        "-hide_banner",
        "-nostdin",
        "-v",
        "error",
        "-y",
        *input_args(source, info),
        "-map",
        "0:a:0",
        "-vn",
        "-sn",
        "-dn",
        "-ac",
        "1",
        "-ar",
        str(SAMPLE_RATE),
        "-c:a",
        "pcm_s16le",
        "-f",
        "wav",
        "-progress",
        "pipe:1",
        "-nostats",
        str(dest),
    ]


def segment_start_args(segment: Path) -> list[str]:
    """ffprobe of one of our own MPEG-TS segments: each stream's start time."""
    return [
        "-v",
        "error",
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        "mpegts",
        "-of",
        "json",
        "-show_entries",
        "stream=start_time",
        str(segment),
    ]
