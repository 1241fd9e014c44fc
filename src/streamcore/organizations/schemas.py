from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from streamcore.auth.schemas import Email
from streamcore.models import MemberRole


class OrganizationCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class OrganizationRead(BaseModel):
    id: str
    name: str
    role: MemberRole | None = Field(description="The caller's role; null for a super-admin.")
    created_at: datetime


class InvitationCreate(BaseModel):
    email: Email = Field(description="The address to invite; the account with it accepts.")
    role: MemberRole = MemberRole.collaborator


class InvitationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    organization_id: str
    email: str
    role: MemberRole
    expires_at: datetime
    created_at: datetime


class ReceivedInvitationRead(InvitationRead):
    organization_name: str


class MemberRead(BaseModel):
    user_id: str
    email: str
    role: MemberRole
    created_at: datetime
