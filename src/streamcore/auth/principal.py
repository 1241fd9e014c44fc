"""Who is calling and what they may do: principals, actions, roles and key scopes.

Pure data and tables; the checks that need the database live in auth.service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from streamcore.models import MemberRole


class Action(StrEnum):
    read = "read"  # metadata: projects, sessions, videos
    stream = "stream"  # playback
    upload = "upload"  # uploads, imports, reprocessing, recording sessions
    manage = "manage"  # the project's members, keys and settings
    admin = "admin"  # the whole platform: super-admins only


class Scope(StrEnum):
    """What an API key may do, within its one project."""

    upload = "upload"
    read = "read"
    stream = "stream"
    admin = "admin"


class PrincipalKind(StrEnum):
    user = "user"
    api_key = "api_key"


ROLE_ACTIONS: dict[MemberRole, frozenset[Action]] = {
    MemberRole.owner: frozenset({Action.read, Action.stream, Action.upload, Action.manage}),
    MemberRole.collaborator: frozenset({Action.read, Action.stream, Action.upload}),
}

# Playing a video needs its metadata, so `stream` implies `read`. `admin` is every
# project action; it never reaches the platform (Action.admin) and, since keys cannot
# manage keys (a leaked key must not be able to mint its own successors), the key
# endpoints refuse API keys whatever their scopes.
SCOPE_ACTIONS: dict[Scope, frozenset[Action]] = {
    Scope.read: frozenset({Action.read}),
    Scope.stream: frozenset({Action.read, Action.stream}),
    Scope.upload: frozenset({Action.upload}),
    Scope.admin: frozenset({Action.read, Action.stream, Action.upload, Action.manage}),
}


def scope_actions(scopes: frozenset[Scope]) -> frozenset[Action]:
    out: frozenset[Action] = frozenset()
    for scope in scopes:
        out |= SCOPE_ACTIONS[scope]
    return out


@dataclass(frozen=True)
class Principal:
    """A verified caller: a user (from an access token) or an API key."""

    kind: PrincipalKind
    id: str
    is_superadmin: bool = False
    # API keys only: the one project the key belongs to, and its scopes.
    project_id: str | None = None
    scopes: frozenset[Scope] = field(default_factory=frozenset)

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def is_user(self) -> bool:
        return self.kind is PrincipalKind.user
