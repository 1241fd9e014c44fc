"""Users made outside HTTP, on the database the settings point at: the first owner
(`streamcore admin create-user`) and the demo's user."""

from __future__ import annotations

from streamcore.auth import service
from streamcore.config import Settings
from streamcore.db.migrate import ensure_schema
from streamcore.errors import BadRequest
from streamcore.infra import build_infra


async def ensure_user(
    settings: Settings, email: str, password: str, superadmin: bool = False
) -> tuple[str, bool]:
    """(user id, created): creates the user with a personal organization, or sets the
    password of the existing one. ValueError for an unusable email or password."""
    infra = build_infra(settings)
    try:
        await ensure_schema(infra.engine, auto_migrate=infra.settings.database.auto_migrate)
        async with infra.transaction() as session:
            user, created = await service.ensure_user(
                session, infra, email, password, superadmin=superadmin
            )
        return user.id, created
    except BadRequest as exc:
        raise ValueError(exc.detail) from exc
    finally:
        await infra.close()
