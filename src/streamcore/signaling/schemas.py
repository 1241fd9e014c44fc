"""Signaling payloads. Sizes are bounded so a client cannot make the server relay
megabytes; anything that does not validate is answered with an `error` event."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from streamcore.inputs import EntityId, OptionalEntityId


class JoinSession(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: EntityId
    name: str = Field(default="", max_length=100)


class LeaveSession(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: EntityId


class Description(BaseModel):
    """An `offer` or `answer`: an SDP to one peer (`to`) or to the whole room."""

    model_config = ConfigDict(extra="forbid")

    session_id: EntityId
    to: str | None = Field(default=None, min_length=1, max_length=64)
    sdp: str = Field(min_length=1)
    type: str | None = Field(default=None, max_length=16)


class IceCandidate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: EntityId
    to: str | None = Field(default=None, min_length=1, max_length=64)
    # RTCIceCandidateInit: {candidate, sdpMid, sdpMLineIndex, usernameFragment}, or null
    # for end-of-candidates.
    candidate: dict[str, Any] | str | None


class Subscribe(BaseModel):
    """Follow job progress and status of one asset or of a whole project."""

    model_config = ConfigDict(extra="forbid")

    asset_id: OptionalEntityId = None
    project_id: OptionalEntityId = None
