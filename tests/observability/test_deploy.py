"""deploy/docker-compose.yml and its env file only set settings that streamcore has (a
typo there would be silently ignored by pydantic-settings)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from streamcore.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
ENV_FILE = DEPLOY / "streamcore.env.example"


def known(model: type[BaseModel], prefix: str = "STREAMCORE_") -> set[str]:
    names = set()
    for name, field in model.model_fields.items():
        env = prefix + name.upper()
        names.add(env)
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            names |= known(field.annotation, env + "__")
    return names


def test_compose_sets_only_real_settings() -> None:
    used = set(re.findall(r"\b(STREAMCORE_[A-Z0-9_]+):", COMPOSE.read_text()))
    used |= set(re.findall(r"^(STREAMCORE_[A-Z0-9_]+)=", ENV_FILE.read_text(), re.MULTILINE))
    assert "STREAMCORE_SECRET_KEY" in used
    assert sorted(used - known(Settings)) == []
