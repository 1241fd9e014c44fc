from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from streamcore.inputs import OptionalEntityId


class ProjectCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    organization_id: OptionalEntityId = None
    auto_transcribe: StrictBool = Field(
        default=False, description="transcribe every video once it is transcoded"
    )


class ProjectUpdate(BaseModel):
    """PATCH /projects/{id}: the fields sent are replaced."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    auto_transcribe: StrictBool | None = None
    playback_ttl_seconds: int | None = Field(
        default=None,
        ge=60,
        le=7 * 24 * 3600,
        description="Lifetime of playback URLs of the project's videos (null: the default)",
    )


class ProjectRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    organization_id: str
    name: str
    auto_transcribe: bool
    playback_ttl_seconds: int | None
    created_at: datetime


class ProjectDeletion(BaseModel):
    """The project is gone for every caller; its videos are being purged."""

    id: str
    videos_deleting: int
