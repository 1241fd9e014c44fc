"""deploy/docker-compose.yml only sets settings that streamcore has (a typo there would
be silently ignored by pydantic-settings)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from streamcore.config import Settings

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "docker-compose.yml"


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
    assert used
    assert sorted(used - known(Settings)) == []
