"""Why a transcription failed; the class name is the transcript's `error.class`.

They are MediaErrors, so the job runner treats them as permanent (no retry)."""

from __future__ import annotations

from streamcore.media.failures import MediaError


class NotTranscribable(MediaError):
    """The video is not (or no longer) ready, or has no audio."""


class AudioExtractionFailed(MediaError):
    """FFmpeg could not decode the audio track to 16 kHz mono."""


class TranscriptionFailed(MediaError):
    """The engine refused the audio or is misconfigured (no model, key rejected)."""
