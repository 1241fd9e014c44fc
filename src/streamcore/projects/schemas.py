from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from streamcore.inputs import OptionalEntityId


class ProjectCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    organization_id: OptionalEntityId = None
    auto_transcribe: bool = Field(
        default=False, description="transcribe every video once it is transcoded"
    )


class ProjectRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    organization_id: str
    name: str
    auto_transcribe: bool
    created_at: datetime
