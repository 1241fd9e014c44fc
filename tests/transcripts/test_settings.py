from __future__ import annotations

import pytest

from streamcore.config import Settings


def test_enabled_by_default_with_the_offline_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WHISPER_ENABLED", raising=False)
    settings = Settings()
    assert settings.transcribe.enabled is True
    assert settings.transcribe.engine == "whisper"


@pytest.mark.parametrize(("value", "expected"), [("false", False), ("0", False), ("true", True)])
def test_whisper_enabled_alias(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv("WHISPER_ENABLED", value)
    assert Settings().transcribe.enabled is expected


def test_explicit_setting_wins_over_the_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHISPER_ENABLED", "false")
    monkeypatch.setenv("STREAMCORE_TRANSCRIBE__ENABLED", "true")
    assert Settings().transcribe.enabled is True
    monkeypatch.delenv("STREAMCORE_TRANSCRIBE__ENABLED")
    assert Settings(transcribe={"enabled": True}).transcribe.enabled is True  # type: ignore[arg-type]


def test_nested_engine_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMCORE_TRANSCRIBE__ENGINE", "openai")
    monkeypatch.setenv("STREAMCORE_TRANSCRIBE__OPENAI__API_KEY", "sk-test")
    monkeypatch.setenv("STREAMCORE_TRANSCRIBE__OPENAI__BASE_URL", "http://127.0.0.1:9/v1")
    settings = Settings()
    assert settings.transcribe.engine == "openai"
    assert settings.transcribe.openai.api_key.get_secret_value() == "sk-test"
    assert "sk-test" not in repr(settings)
