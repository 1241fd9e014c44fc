from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from streamcore.auth import service
from streamcore.auth.dependencies import Action, UserDep, authorize
from streamcore.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    LoginRequest,
    MembershipSummary,
    MeRead,
    RefreshRequest,
    RegisterRequest,
    TokenRead,
    UserRead,
)
from streamcore.deps import InfraDep, SessionDep
from streamcore.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    error_responses,
)
from streamcore.inputs import PathId
from streamcore.organizations import service as organizations

router = APIRouter(prefix="/auth", tags=["auth"])
keys_router = APIRouter(tags=["api keys"])


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _tokens(pair: service.TokenPair) -> TokenRead:
    return TokenRead(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


@router.post(
    "/login",
    response_model=TokenRead,
    responses=error_responses(Unauthorized, TooManyRequests, ServiceUnavailable),
)
async def login(
    body: LoginRequest, request: Request, session: SessionDep, infra: InfraDep
) -> TokenRead:
    """Exchange an email and password for an access token (JWT) and a refresh token."""
    pair = await service.login(session, infra, body.email, body.password, _client_ip(request))
    return _tokens(pair)


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses=error_responses(Forbidden, Conflict, TooManyRequests),
)
async def register(
    body: RegisterRequest, request: Request, session: SessionDep, infra: InfraDep
) -> UserRead:
    """Create an account with a personal organization (when the server allows it)."""
    user = await service.register(session, infra, body.email, body.password, _client_ip(request))
    return UserRead.model_validate(user)


@router.post("/refresh", response_model=TokenRead, responses=error_responses(Unauthorized))
async def refresh(body: RefreshRequest, infra: InfraDep) -> TokenRead:
    """Trade a refresh token for a new pair; the old refresh token stops working."""
    # Its own transaction: a reused token revokes the user's logins, and that must be
    # committed although the answer is a 401.
    async with infra.transaction() as session:
        pair = await service.refresh(session, infra, body.refresh_token)
    if pair is None:
        raise Unauthorized("invalid or expired refresh token", invalid_token=True)
    return _tokens(pair)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(Unauthorized, Forbidden),
)
async def logout(body: RefreshRequest, session: SessionDep, principal: UserDep) -> Response:
    """Revoke a refresh token of the caller's."""
    await service.logout(session, principal, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=MeRead, responses=error_responses(Unauthorized, Forbidden))
async def me(session: SessionDep, principal: UserDep) -> MeRead:
    """The logged-in user and their organizations."""
    user = await service.get_user(session, principal.id)
    orgs = await organizations.memberships(session, user.id)
    return MeRead(
        id=user.id,
        email=user.email,
        is_superadmin=user.is_superadmin,
        created_at=user.created_at,
        organizations=[
            MembershipSummary(organization_id=org.id, name=org.name, role=role)
            for org, role in orgs
        ],
    )


@keys_router.post(
    "/projects/{project_id}/api-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    responses=error_responses(BadRequest, Unauthorized, Forbidden, NotFound),
)
async def create_api_key(
    project_id: PathId, body: ApiKeyCreate, session: SessionDep, principal: UserDep
) -> ApiKeyCreated:
    """Create an API key for the project; the response holds its secret, shown once."""
    await authorize(session, principal, project_id, Action.manage)
    created = await service.create_api_key(
        session,
        principal,
        project_id,
        name=body.name,
        scopes=frozenset(body.scopes),
        expires_at=body.expires_at,
    )
    read = ApiKeyRead.model_validate(created.key)
    return ApiKeyCreated(**read.model_dump(), key=created.secret)


@keys_router.get(
    "/projects/{project_id}/api-keys",
    response_model=list[ApiKeyRead],
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def list_api_keys(
    project_id: PathId, session: SessionDep, principal: UserDep
) -> list[ApiKeyRead]:
    """The project's API keys (never their secrets)."""
    await authorize(session, principal, project_id, Action.manage)
    return [ApiKeyRead.model_validate(k) for k in await service.list_api_keys(session, project_id)]


@keys_router.delete(
    "/projects/{project_id}/api-keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def revoke_api_key(
    project_id: PathId, key_id: PathId, session: SessionDep, principal: UserDep
) -> Response:
    """Revoke an API key at once."""
    await authorize(session, principal, project_id, Action.manage)
    await service.revoke_api_key(session, project_id, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
