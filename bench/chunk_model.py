"""A model of a chunked run on N workers, fed with measured times (bench/chunked.py):
the ingest, then the jobs in the order they are queued (the first chunk, the audio, the
other chunks), each taken by the first free worker after the scheduling delay; ready
when the last piece is done, a scheduling delay and the stitch later."""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from streamcore.media.chunks import plan_chunks

# The audio rendition's first segments are out this long after its job starts (an AAC
# encode runs at hundreds of times real time; this is mostly the publish interval).
AUDIO_FIRST_SECONDS = 1.0


@dataclass(frozen=True)
class Measured:
    first_chunk: float  # FFmpeg seconds of the short first chunk, one core
    full_chunk: float  # FFmpeg seconds of a full chunk, one core
    chunk_seconds: int
    job_overhead: float  # per job on top of FFmpeg: start, seek, upload, commit
    delay: float  # from a worker's last commit to its next job's start
    audio: float  # the audio job over the whole source
    stitch: float  # the stitch job over the whole source
    ingest: float = 1.0


def simulate(m: Measured, duration: float, workers: int) -> tuple[float, float]:
    """(seconds to ready, seconds to first playable), from the end of the upload."""
    spans = plan_chunks(
        duration, threshold=120, chunk_seconds=m.chunk_seconds, first_seconds=4,
        segment_seconds=4,
    )  # fmt: skip
    jobs: list[tuple[str, float]] = []
    for span in spans:
        if span.index == 0:
            jobs += [("chunk0", m.first_chunk + m.job_overhead), ("audio", m.audio)]
        else:
            cost = m.full_chunk * span.duration / m.chunk_seconds
            jobs.append(("chunk", cost + m.job_overhead))
    free = [m.ingest + m.delay] * workers
    heapq.heapify(free)
    ends: list[float] = []
    chunk0_end = audio_start = 0.0
    for kind, cost in jobs:
        start = heapq.heappop(free)
        end = start + cost
        ends.append(end)
        heapq.heappush(free, end + m.delay)
        if kind == "chunk0":
            chunk0_end = end
        elif kind == "audio":
            audio_start = start
    playable = max(chunk0_end, audio_start + AUDIO_FIRST_SECONDS)
    return max(ends) + m.delay + m.stitch, playable
