"""Accounts, logins and the one credential verifier every entry point uses (HTTP
routes now, the Socket.IO handshake later), and the per-project access check."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.adapters.ratelimit import RateLimiterUnavailable
from streamcore.auth import throttle
from streamcore.auth.principal import (
    ROLE_ACTIONS,
    Action,
    Principal,
    PrincipalKind,
    Scope,
    scope_actions,
)
from streamcore.auth.repository import ApiKeyRepository, RefreshTokenRepository, UserRepository
from streamcore.db.base import utcnow
from streamcore.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from streamcore.infra import Infra
from streamcore.models import ApiKey, RefreshToken, User
from streamcore.organizations import service as organizations
from streamcore.projects import service as projects
from streamcore.security.access_tokens import InvalidToken

log = structlog.get_logger(__name__)

API_KEY_MARK = "sk"
REFRESH_TOKEN_MARK = "rt"
PASSWORD_MIN, PASSWORD_MAX = 8, 1024
BAD_LOGIN = "invalid email or password"
SCOPE_VALUES = frozenset(s.value for s in Scope)
# last_used_at is written at most this often per key (not on every request).
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def normalize_email(email: str) -> str:
    """Lower-cased and trimmed; ValueError unless it looks like an address."""
    value = email.strip().lower()
    local, _, domain = value.partition("@")
    if not local or not domain or len(value) > 320 or any(c.isspace() for c in value):
        raise ValueError("not an email address")
    return value


def check_password(password: str) -> str:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ValueError(f"a password has {PASSWORD_MIN} to {PASSWORD_MAX} characters")
    return password


def _checked(email: str, password: str) -> tuple[str, str]:
    try:
        return normalize_email(email), check_password(password)
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc


# Users


async def create_user(
    session: AsyncSession,
    infra: Infra,
    email: str,
    password: str,
    *,
    superadmin: bool = False,
) -> User:
    """A new user who owns a new personal organization."""
    email, password = _checked(email, password)
    repo = UserRepository(session)
    if await repo.by_email(email) is not None:
        raise Conflict("a user with this email exists")
    user = await repo.add(
        User(
            email=email,
            password_hash=await infra.passwords.hash(password),
            is_superadmin=superadmin,
            is_active=True,
        )
    )
    await organizations.create_organization(session, f"{email}'s organization", user.id)
    return user


async def ensure_user(
    session: AsyncSession,
    infra: Infra,
    email: str,
    password: str,
    *,
    superadmin: bool = False,
) -> tuple[User, bool]:
    """Create the user, or set the password of the existing one (reactivating it, and
    raising it to super-admin if asked); True when created. The idempotent entry point
    of operators (`streamcore admin create-user`) and the demo."""
    email, password = _checked(email, password)
    user = await UserRepository(session).by_email(email)
    if user is None:
        return await create_user(session, infra, email, password, superadmin=superadmin), True
    user.password_hash = await infra.passwords.hash(password)
    user.is_active = True
    user.is_superadmin = user.is_superadmin or superadmin
    if await organizations.first_owned(session, user.id) is None:
        await organizations.create_organization(session, f"{email}'s organization", user.id)
    await session.flush()
    return user, False


async def get_user(session: AsyncSession, user_id: str) -> User:
    user = await UserRepository(session).get(user_id)
    if user is None:
        raise NotFound("user not found")
    return user


async def find_user_by_email(session: AsyncSession, email: str) -> User:
    try:
        email = normalize_email(email)
    except ValueError as exc:
        raise NotFound("user not found") from exc
    user = await UserRepository(session).by_email(email)
    if user is None:
        raise NotFound("user not found")
    return user


# Logins


async def _issue(session: AsyncSession, infra: Infra, user: User) -> TokenPair:
    refresh = f"{REFRESH_TOKEN_MARK}_{secrets.token_urlsafe(32)}"
    ttl = infra.settings.auth.refresh_token_ttl_seconds
    await RefreshTokenRepository(session).add(
        RefreshToken(
            user_id=user.id,
            token_hash=sha256_hex(refresh),
            expires_at=utcnow() + timedelta(seconds=ttl),
        )
    )
    return TokenPair(
        access_token=infra.access_tokens.issue(user.id),
        refresh_token=refresh,
        expires_in=infra.access_tokens.ttl_seconds,
    )


async def login(
    session: AsyncSession, infra: Infra, email: str, password: str, client_ip: str | None
) -> TokenPair:
    """Check a password and open a login, throttled as auth.throttle explains;
    unknown accounts cost the same time as wrong passwords."""
    await throttle.address_allowed(infra, client_ip, "login attempts from this address")
    try:
        email = normalize_email(email)
    except ValueError as exc:
        raise Unauthorized(BAD_LOGIN) from exc
    attempt = await throttle.before_password_check(infra, email, client_ip)
    user = await UserRepository(session).by_email(email)
    if user is None or not user.is_active or not user.password_hash:
        await infra.passwords.verify_nobody(password)
        log.info("auth.login_failed", reason="unknown_account")
        raise Unauthorized(BAD_LOGIN)
    if not await infra.passwords.verify(user.password_hash, password):
        log.info("auth.login_failed", reason="password", user_id=user.id)
        raise Unauthorized(BAD_LOGIN)
    await throttle.succeeded(infra, attempt)
    if infra.passwords.needs_rehash(user.password_hash):
        user.password_hash = await infra.passwords.hash(password)
    log.info("auth.login", user_id=user.id)
    return await _issue(session, infra, user)


async def register(
    session: AsyncSession, infra: Infra, email: str, password: str, client_ip: str | None
) -> User:
    cfg = infra.settings.auth
    if not cfg.registration_enabled:
        raise Forbidden("registration is disabled on this server")
    await throttle.limit(
        infra,
        f"register:ip:{client_ip or 'unknown'}",
        cfg.login_ip_limit,
        cfg.login_ip_window_seconds,
        "registrations from this address",
    )
    return await create_user(session, infra, email, password)


async def refresh(session: AsyncSession, infra: Infra, token: str) -> TokenPair | None:
    """Rotate a refresh token: the old one is revoked, a new pair is issued. None when
    the token is unknown, expired or revoked; a revoked one shown again (a stolen,
    already rotated token) revokes every login of its user, so the caller must
    commit before answering 401."""
    repo = RefreshTokenRepository(session)
    row = await repo.by_hash(sha256_hex(token), for_update=True)
    if row is None:
        return None
    now = utcnow()
    if row.revoked_at is not None:
        revoked = await repo.revoke_all(row.user_id, now)
        log.warning("auth.refresh_token_reused", user_id=row.user_id, revoked=revoked)
        return None
    if row.expires_at <= now:
        return None
    user = await UserRepository(session).get(row.user_id)
    if user is None or not user.is_active:
        return None
    row.revoked_at = now
    await session.flush()
    return await _issue(session, infra, user)


async def logout(session: AsyncSession, principal: Principal, token: str) -> None:
    """Revoke one of the caller's refresh tokens (unknown or foreign ones: no-op)."""
    row = await RefreshTokenRepository(session).by_hash(sha256_hex(token), for_update=True)
    if row is not None and row.user_id == principal.id and row.revoked_at is None:
        row.revoked_at = utcnow()
        await session.flush()


# Credentials


async def verify_credentials(
    session: AsyncSession,
    infra: Infra,
    *,
    authorization: str | None = None,
    api_key: str | None = None,
) -> Principal:
    """The caller behind an `Authorization` header value (`Bearer <JWT>` or
    `Bearer sk_...`) or an `X-API-Key` value. Unauthorized when there is none or it
    does not verify; TooManyRequests when an API key is over its rate."""
    if api_key is not None and api_key.strip():
        return await _verify_api_key(session, infra, api_key.strip())
    if authorization is None or not authorization.strip():
        raise Unauthorized()
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or " " in value:
        raise Unauthorized("malformed Authorization header (use: Bearer <token>)")
    if value.startswith(f"{API_KEY_MARK}_"):
        return await _verify_api_key(session, infra, value)
    return await _verify_access_token(session, infra, value)


async def _verify_access_token(session: AsyncSession, infra: Infra, token: str) -> Principal:
    try:
        claims = infra.access_tokens.verify(token)
    except InvalidToken as exc:
        raise Unauthorized("invalid or expired token", invalid_token=True) from exc
    user = await UserRepository(session).get(claims.subject)
    if user is None or not user.is_active:
        raise Unauthorized("invalid or expired token", invalid_token=True)
    return Principal(kind=PrincipalKind.user, id=user.id, is_superadmin=user.is_superadmin)


def parse_api_key(raw: str) -> tuple[str, str] | None:
    """(prefix, secret) of `sk_<prefix>_<secret>`; None when it is not shaped so."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_MARK or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


async def _verify_api_key(session: AsyncSession, infra: Infra, raw: str) -> Principal:
    parsed = parse_api_key(raw)
    key = await ApiKeyRepository(session).by_prefix(parsed[0]) if parsed else None
    if key is None or not hmac.compare_digest(key.secret_hash, sha256_hex(raw)):
        raise Unauthorized("invalid API key", invalid_token=True)
    now = utcnow()
    if key.revoked_at is not None:
        raise Unauthorized("API key revoked", invalid_token=True)
    if key.expires_at is not None and key.expires_at <= now:
        raise Unauthorized("API key expired", invalid_token=True)
    cfg = infra.settings.auth
    try:
        decision = await infra.ratelimiter.hit(
            f"apikey:{key.id}", cfg.api_key_limit, cfg.api_key_window_seconds
        )
    except RateLimiterUnavailable as exc:
        # Fail open: a counter outage must not stop every integration's uploads.
        log.warning("auth.ratelimit_unavailable", error=str(exc))
    else:
        if not decision.allowed:
            raise TooManyRequests("API key rate limit exceeded", retry_after=decision.retry_after)
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
        await ApiKeyRepository(session).touch(key.id, now)
    scopes = frozenset(Scope(s) for s in key.scopes if s in SCOPE_VALUES)
    return Principal(
        kind=PrincipalKind.api_key, id=key.id, project_id=key.project_id, scopes=scopes
    )


# Access control


def require_user(principal: Principal) -> Principal:
    if not principal.is_user:
        raise Forbidden("this needs a user's login, not an API key")
    return principal


def require_superadmin(principal: Principal) -> Principal:
    if not (principal.is_user and principal.is_superadmin):
        raise Forbidden("super-admin only")
    return principal


async def authorize(
    session: AsyncSession,
    principal: Principal,
    project_id: str,
    action: Action,
    *,
    not_found: str = "project not found",
) -> None:
    """NotFound when the project is invisible to the caller (so ids never leak:
    `not_found` is the detail the route would give for a missing object), Forbidden
    when it is visible but the action is not allowed."""
    if principal.kind is PrincipalKind.api_key:
        if principal.project_id != project_id:
            raise NotFound(not_found)
        if action not in scope_actions(principal.scopes):
            raise Forbidden(f"the API key's scopes do not allow {action}")
        return
    project = await projects.find_project(session, project_id)
    if project is None:
        raise NotFound(not_found)
    if principal.is_superadmin:
        return
    role = await organizations.role_of(session, project.organization_id, principal.id)
    if role is None:
        raise NotFound(not_found)
    if action not in ROLE_ACTIONS[role]:
        raise Forbidden(f"a {role} of the organization cannot {action} here")


# API keys


@dataclass(frozen=True)
class CreatedApiKey:
    key: ApiKey
    secret: str


async def create_api_key(
    session: AsyncSession,
    principal: Principal,
    project_id: str,
    *,
    name: str,
    scopes: frozenset[Scope],
    expires_at: datetime | None,
) -> CreatedApiKey:
    """A new key for the project; its secret is returned here and never again."""
    if not scopes:
        raise BadRequest("an API key needs at least one scope")
    if expires_at is not None and expires_at <= utcnow():
        raise BadRequest("expires_at is in the past")
    prefix = secrets.token_hex(6)
    secret = f"{API_KEY_MARK}_{prefix}_{secrets.token_urlsafe(32)}"
    key = await ApiKeyRepository(session).add(
        ApiKey(
            project_id=project_id,
            name=name,
            prefix=prefix,
            secret_hash=sha256_hex(secret),
            scopes=sorted(s.value for s in scopes),
            expires_at=expires_at,
            created_by=principal.id if principal.is_user else None,
        )
    )
    log.info("auth.api_key_created", key_id=key.id, project_id=project_id)
    return CreatedApiKey(key, secret)


async def list_api_keys(session: AsyncSession, project_id: str) -> Sequence[ApiKey]:
    return await ApiKeyRepository(session).list_for_project(project_id)


async def revoke_api_key(session: AsyncSession, project_id: str, key_id: str) -> ApiKey:
    key = await ApiKeyRepository(session).get_in_project(project_id, key_id)
    if key is None:
        raise NotFound("API key not found")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        await session.flush()
        log.info("auth.api_key_revoked", key_id=key.id, project_id=project_id)
    return key


async def revoke_project_keys(session: AsyncSession, project_id: str) -> None:
    """Every key of the project stops working (the project is being deleted)."""
    await ApiKeyRepository(session).revoke_all(project_id, utcnow())
    log.info("auth.project_keys_revoked", project_id=project_id)
