"""`/projects/{id}/webhooks`: endpoints, their secrets, the delivery log and replay.
Owners of the project's organization and API keys with the `admin` scope manage them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from streamcore.auth.dependencies import Action, PrincipalDep, authorize
from streamcore.deps import InfraDep, SessionDep
from streamcore.errors import BadRequest, Forbidden, NotFound, Unauthorized, error_responses
from streamcore.models import WebhookEndpoint
from streamcore.webhooks import service
from streamcore.webhooks.schemas import (
    DeliveryPage,
    DeliveryRead,
    SecretRotated,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)

router = APIRouter(tags=["webhooks"])
ERRORS = error_responses(Unauthorized, Forbidden, NotFound)
BAD_INPUT = error_responses(BadRequest, Unauthorized, Forbidden, NotFound)
BASE = "/projects/{project_id}/webhooks"


async def _endpoint(
    session: SessionDep, principal: PrincipalDep, project_id: str, webhook_id: str
) -> WebhookEndpoint:
    await authorize(session, principal, project_id, Action.manage, not_found=service.NOT_FOUND)
    return await service.get(session, project_id, webhook_id)


@router.post(
    BASE, status_code=status.HTTP_201_CREATED, response_model=WebhookCreated, responses=BAD_INPUT
)
async def create_webhook(
    project_id: str,
    body: WebhookCreate,
    session: SessionDep,
    principal: PrincipalDep,
    infra: InfraDep,
) -> WebhookCreated:
    """Add an endpoint; the response holds its signing secret, shown once."""
    await authorize(session, principal, project_id, Action.manage)
    endpoint = await service.create(session, infra.webhooks, project_id, body)
    return WebhookCreated(
        **WebhookRead.model_validate(endpoint).model_dump(), secret=endpoint.secret
    )


@router.get(BASE, response_model=list[WebhookRead], responses=ERRORS)
async def list_webhooks(
    project_id: str, session: SessionDep, principal: PrincipalDep
) -> list[WebhookRead]:
    """The project's endpoints (never their secrets)."""
    await authorize(session, principal, project_id, Action.manage)
    return [
        WebhookRead.model_validate(e) for e in await service.list_endpoints(session, project_id)
    ]


@router.get(BASE + "/{webhook_id}", response_model=WebhookRead, responses=ERRORS)
async def get_webhook(
    project_id: str, webhook_id: str, session: SessionDep, principal: PrincipalDep
) -> WebhookRead:
    """One endpoint."""
    return WebhookRead.model_validate(await _endpoint(session, principal, project_id, webhook_id))


@router.patch(BASE + "/{webhook_id}", response_model=WebhookRead, responses=BAD_INPUT)
async def update_webhook(
    project_id: str,
    webhook_id: str,
    body: WebhookUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    infra: InfraDep,
) -> WebhookRead:
    """Change the URL, the event filter, the description; enable or disable."""
    endpoint = await _endpoint(session, principal, project_id, webhook_id)
    return WebhookRead.model_validate(await service.update(session, infra.webhooks, endpoint, body))


@router.delete(
    BASE + "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=ERRORS,
)
async def delete_webhook(
    project_id: str, webhook_id: str, session: SessionDep, principal: PrincipalDep
) -> Response:
    """Remove the endpoint and its delivery log."""
    await service.delete(session, await _endpoint(session, principal, project_id, webhook_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(BASE + "/{webhook_id}/rotate-secret", response_model=SecretRotated, responses=ERRORS)
async def rotate_webhook_secret(
    project_id: str, webhook_id: str, session: SessionDep, principal: PrincipalDep, infra: InfraDep
) -> SecretRotated:
    """A new secret; the old one keeps signing too (two signatures) for 24 hours."""
    endpoint = await _endpoint(session, principal, project_id, webhook_id)
    secret, until = await service.rotate_secret(session, endpoint, infra.settings.webhooks)
    return SecretRotated(secret=secret, previous_valid_until=until)


@router.post(
    BASE + "/{webhook_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryRead,
    responses=ERRORS,
)
async def test_webhook(
    project_id: str, webhook_id: str, session: SessionDep, principal: PrincipalDep
) -> DeliveryRead:
    """Send a `webhook.test` message to the endpoint."""
    endpoint = await _endpoint(session, principal, project_id, webhook_id)
    return DeliveryRead.model_validate(await service.send_test(session, endpoint))


@router.get(BASE + "/{webhook_id}/deliveries", response_model=DeliveryPage, responses=BAD_INPUT)
async def list_deliveries(
    project_id: str,
    webhook_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryPage:
    """The endpoint's deliveries, newest first: status, attempts, last answer, next attempt."""
    endpoint = await _endpoint(session, principal, project_id, webhook_id)
    rows, next_cursor = await service.deliveries_page(session, endpoint, cursor, limit)
    return DeliveryPage(
        items=[DeliveryRead.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.post(
    BASE + "/{webhook_id}/deliveries/{delivery_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryRead,
    responses=ERRORS,
)
async def retry_delivery(
    project_id: str, webhook_id: str, delivery_id: str, session: SessionDep, principal: PrincipalDep
) -> DeliveryRead:
    """Send one delivery again now (same `webhook-id`)."""
    endpoint = await _endpoint(session, principal, project_id, webhook_id)
    return DeliveryRead.model_validate(await service.retry(session, endpoint, delivery_id))
