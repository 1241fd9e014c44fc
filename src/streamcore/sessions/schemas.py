from __future__ import annotations

from datetime import datetime

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StrictBool

from streamcore.inputs import EntityId


class SessionCreate(BaseModel):
    project_id: EntityId
    name: str = Field(default="", max_length=200)


class SessionUpdate(BaseModel):
    """PATCH /sessions/{id}: rename it (`name`, or `title`), or end it for good."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(
        default=None, max_length=200, validation_alias=AliasChoices("name", "title")
    )
    ended: StrictBool | None = Field(
        default=None, description="true ends the session: no more joins or recordings"
    )


class SessionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    project_id: EntityId
    name: str
    created_at: datetime
    ended_at: datetime | None


class SessionPage(BaseModel):
    data: list[SessionRead]
    next_cursor: str | None = Field(description="Null on the last page")
