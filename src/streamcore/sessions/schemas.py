from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from streamcore.inputs import EntityId


class SessionCreate(BaseModel):
    project_id: EntityId
    name: str = Field(default="", max_length=200)


class SessionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    project_id: EntityId
    name: str
    created_at: datetime
