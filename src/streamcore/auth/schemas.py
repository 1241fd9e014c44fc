from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from streamcore.auth.principal import Scope
from streamcore.auth.service import check_password, normalize_email
from streamcore.models import MemberRole

Email = Annotated[
    str,
    Field(min_length=3, max_length=320, json_schema_extra={"format": "email"}),
    AfterValidator(normalize_email),
]


class LoginRequest(BaseModel):
    # Not validated beyond length: a malformed email is just a failed login.
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class RegisterRequest(BaseModel):
    email: Email
    password: Annotated[str, Field(min_length=8, max_length=1024), AfterValidator(check_password)]


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class TokenRead(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")


class MembershipSummary(BaseModel):
    organization_id: str
    name: str
    role: MemberRole


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    is_superadmin: bool
    created_at: datetime


class MeRead(UserRead):
    organizations: list[MembershipSummary]


class ApiKeyCreate(BaseModel):
    name: str = Field(default="", max_length=200)
    scopes: list[Scope] = Field(min_length=1, description="upload, read, stream, admin")
    expires_at: datetime | None = Field(default=None, description="Never expires when null.")


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    project_id: str
    name: str
    prefix: str
    scopes: list[Scope]
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The secret: shown this once, only its hash is kept.")
