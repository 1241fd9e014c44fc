"""Why a media job failed; the class name is what the asset shows as `error.class`.

Permanent errors are the input's fault (retrying cannot help); transient ones are ours
or the infrastructure's and are retried with backoff.
"""

from __future__ import annotations

import re

# FFmpeg's "[h264 @ 0x55d0c8]" line prefix, and anything shaped like a file path or URL.
_LOG_PREFIX = re.compile(r"\[[^\]]+ @ 0x[0-9a-f]+\]\s*")
_PATHS = re.compile(r"(?<![\w.])(?:[a-z][a-z0-9+.-]*:)?(?:/{1,2}[^\s'\",;:]+)+/?", re.IGNORECASE)


def user_reason(tool_output: str, *, lines: int = 1) -> str:
    """The last `lines` distinct lines of a tool's stderr, fit for users: no file
    paths, URLs or memory addresses (those go to the log, never to `error.message`)."""
    reasons: list[str] = []
    for line in tool_output.splitlines():
        text = _PATHS.sub("<file>", _LOG_PREFIX.sub("", line.strip()))
        text = re.sub(r"0x[0-9a-f]{6,}", "", text).strip(" :")
        if text and text != "<file>" and text not in reasons:
            reasons.append(text)
    return "; ".join(reasons[-lines:])[:300]


class MediaError(Exception):
    """A permanent failure caused by the input."""

    @property
    def name(self) -> str:
        return type(self).__name__


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


class TransientError(Exception):
    """Worth retrying: storage or broker unavailable, timeouts."""


class SourceMissing(MediaError):
    """The uploaded object is not in storage."""
