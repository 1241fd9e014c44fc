from __future__ import annotations

from pydantic import BaseModel, Field


class StatsRead(BaseModel):
    jobs: dict[str, int] = Field(description="Jobs by status (queued, running, dead ...).")
