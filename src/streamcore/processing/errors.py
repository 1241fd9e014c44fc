"""Why a media job failed; the class name is what the asset shows as `error.class`.

Permanent errors are the input's fault (retrying cannot help); transient ones are ours
or the infrastructure's and are retried with backoff.
"""

from __future__ import annotations


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
