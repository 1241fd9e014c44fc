from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AnyUrl, BaseModel, ConfigDict, Field

from streamcore.inputs import EntityId, OptionalEntityId
from streamcore.videos.schemas import VideoDescription


class PresignCreate(VideoDescription):
    """The upload, and the video's description (title, external_id ...)."""

    model_config = ConfigDict(extra="ignore")

    project_id: EntityId
    filename: str = Field(max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=127)
    size: int = Field(gt=0, description="exact size of the file in bytes")
    session_id: OptionalEntityId = None


class PartRead(BaseModel):
    part_number: int
    url: str
    size: int = Field(description="bytes to send in this part")


class PresignRead(BaseModel):
    """Where to send the file. `single`: one PUT of the whole file to `url` with
    `headers`. `multipart`: PUT each byte range to its part URL. Then POST `complete_url`."""

    asset_id: str
    upload_id: str
    method: Literal["single", "multipart"]
    url: str | None
    headers: dict[str, str]
    parts: list[PartRead]
    part_size: int | None
    expires_at: datetime
    complete_url: str


class ObjectReceived(BaseModel):
    asset_id: str
    size: int


class UrlImportCreate(VideoDescription):
    """The URL to import, and the video's description (title, external_id ...)."""

    model_config = ConfigDict(extra="ignore")

    url: AnyUrl
    session_id: OptionalEntityId = None
    filename: str | None = Field(default=None, max_length=255)
