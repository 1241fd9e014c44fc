from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from streamcore.models import MemberRole


class OrganizationCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class OrganizationRead(BaseModel):
    id: str
    name: str
    role: MemberRole | None = Field(description="The caller's role; null for a super-admin.")
    created_at: datetime


class MemberCreate(BaseModel):
    email: str = Field(max_length=320, description="An existing user's email.")
    role: MemberRole = MemberRole.collaborator


class MemberRead(BaseModel):
    user_id: str
    email: str
    role: MemberRole
    created_at: datetime
