"""The configured transcription engine. Engines are cheap to build (the Whisper
model itself is loaded once per process by the adapter)."""

from __future__ import annotations

from pathlib import Path

from streamcore.adapters.transcribe.base import TranscriptionEngine
from streamcore.adapters.transcribe.openai import OpenAIEngine
from streamcore.adapters.transcribe.whisper import WhisperEngine
from streamcore.config import TranscribeSettings


def engine_for(settings: TranscribeSettings) -> TranscriptionEngine:
    if settings.engine == "openai":
        api = settings.openai
        return OpenAIEngine(
            api.api_key.get_secret_value(),
            base_url=api.base_url,
            model=api.model,
            timeout=api.timeout_seconds,
            max_retries=api.max_retries,
            backoff_seconds=api.backoff_seconds,
        )
    whisper = settings.whisper
    return WhisperEngine(
        Path(whisper.model_dir) if whisper.model_dir else None,
        compute_type=whisper.compute_type,
        cpu_threads=whisper.cpu_threads,
        beam_size=whisper.beam_size,
        vad_filter=whisper.vad_filter,
        window_seconds=settings.window_seconds,
    )
