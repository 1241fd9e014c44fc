"""Why a media job failed; the class name is what the asset shows as `error.class`.

Permanent errors are the input's fault (retrying cannot help); transient ones are ours
or the infrastructure's and are retried with backoff. A job runner reads `permanent`
and `name` instead of knowing the classes. Messages never carry server file paths: an
uploader sees them.

    Failure
      ├── MediaError (permanent)
      │     ├── ProbeFailed  UnsupportedMedia  DecodeFailed  LimitExceeded
      │     ├── TranscodeFailed  SourceMissing
      │     └── (transcripts/errors.py: NotTranscribable, AudioExtractionFailed, ...)
      └── TransientError (retried)
"""

from __future__ import annotations

import posixpath
import re
from typing import ClassVar


class Failure(Exception):
    """A classified job failure."""

    permanent: ClassVar[bool]

    @property
    def name(self) -> str:
        return type(self).__name__


class MediaError(Failure):
    """A permanent failure caused by the input."""

    permanent = True


class ProbeFailed(MediaError):
    """ffprobe could not read the file as media (text, random bytes, empty, truncated)."""


class UnsupportedMedia(MediaError):
    """Readable, but not something we accept (playlists, images, no audio or video)."""


class DecodeFailed(MediaError):
    """The file probed fine but its streams could not be decoded to the end."""


class LimitExceeded(MediaError):
    """Longer, larger or bigger than the configured limits."""


class TranscodeFailed(MediaError):
    """FFmpeg failed for a reason that is not a decode error."""


class SourceMissing(MediaError):
    """The uploaded object is not in storage."""


class TransientError(Failure):
    """Worth retrying: storage or broker unavailable, timeouts."""

    permanent = False


# Lines of FFmpeg's stderr that mean the input, not FFmpeg or our disk, is at fault.
DECODE_ERROR_MARKERS = (
    "invalid data",
    "corrupt",
    "partial file",
    "error while decoding",
    "invalid nal",
    "missing picture",
    "moov atom not found",
    "error reading header",
    "truncat",
    "decode",
    "concealing",
    "end of file",
    # Damaged AAC: the decoder names the bitstream element it could not read.
    "not allowed in aac",
    "channel element",
    "reserved bit set",
    "scalefactor",
    "input buffer exhausted",
    "pulse tool",
    "sample rate index",
)
MESSAGE_CHARS = 300

# An absolute path in FFmpeg's words (`/tmp/work/x/source: Invalid data ...`); a slash
# after a word character (`1/25`, `tb 1/90000`) is a fraction, not a path.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.])/[^\s'\",:]+")


def without_paths(text: str) -> str:
    """The text with every absolute path cut to its file name."""
    return _ABSOLUTE_PATH.sub(lambda m: posixpath.basename(m.group(0)) or "/", text)


def last_stderr_line(stderr_tail: str) -> str:
    """The last non-empty line of a stderr tail, stripped, without paths, bounded."""
    last = next((ln for ln in reversed(stderr_tail.splitlines()) if ln.strip()), "")
    return without_paths(last.strip())[:MESSAGE_CHARS]


def classify_ffmpeg_failure(returncode: int | None, stderr_tail: str) -> Failure:
    """A failed FFmpeg run: the input's fault when its stderr says so, else ours. An
    FFmpeg killed by a signal we did not send (our stops, timeouts and stall kills are
    told apart before this) met the machine (the OOM killer, an operator): try again."""
    if returncode is not None and returncode < 0:
        return TransientError(f"FFmpeg was killed by signal {-returncode}")
    tail = stderr_tail.lower()
    last = last_stderr_line(stderr_tail)
    if any(marker in tail for marker in DECODE_ERROR_MARKERS):
        return DecodeFailed(f"the file is damaged and cannot be decoded ({last})")
    return TranscodeFailed(f"FFmpeg failed with exit code {returncode}: {last}")


def timeout_failure(message: str) -> LimitExceeded:
    """FFmpeg ran past its wall-clock limit: the input is too much for us."""
    return LimitExceeded(f"processing took too long ({message})")


def stall_failure(message: str) -> TransientError:
    """FFmpeg stopped making progress: likely the machine, so try again."""
    return TransientError(f"FFmpeg stalled: {message}")
