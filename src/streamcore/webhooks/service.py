"""Webhook endpoints of a project, and the deliveries made of domain events.

Deliveries are rows written in the transaction that consumed the event (the outbox
fan-out, or the Kafka consumer before it commits its offset), so an event committed
is an event delivered at least once. Services flush, never commit.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.adapters.fetch import FetchFailed, FetchRefused
from streamcore.adapters.webhook_http import WebhookClient
from streamcore.config import WebhookSettings
from streamcore.db.base import new_id, utcnow
from streamcore.errors import BadRequest, NotFound
from streamcore.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from streamcore.webhooks import signing
from streamcore.webhooks.repository import DeliveryRepository, EndpointRepository
from streamcore.webhooks.schemas import (
    ENDPOINT_DISABLED_EVENT,
    TEST_EVENT,
    WebhookCreate,
    WebhookUpdate,
)

NOT_FOUND = "webhook not found"


async def check_url(client: WebhookClient, url: str) -> None:
    """The URL import's SSRF rules, at creation and on every change of the URL."""
    try:
        await client.check(url)
    except FetchRefused as exc:
        raise BadRequest(f"URL refused: {exc}") from exc
    except FetchFailed as exc:
        raise BadRequest(f"URL refused: {exc}") from exc


async def create(
    session: AsyncSession, client: WebhookClient, project_id: str, body: WebhookCreate
) -> WebhookEndpoint:
    await check_url(client, body.url)
    endpoint = WebhookEndpoint(
        project_id=project_id,
        url=body.url,
        description=body.description,
        event_types=body.event_types,
        enabled=body.enabled,
        secret=signing.new_secret(),
    )
    return await EndpointRepository(session).add(endpoint)


async def get(session: AsyncSession, project_id: str, endpoint_id: str) -> WebhookEndpoint:
    endpoint = await EndpointRepository(session).get(project_id, endpoint_id)
    if endpoint is None:
        raise NotFound(NOT_FOUND)
    return endpoint


async def list_endpoints(session: AsyncSession, project_id: str) -> Sequence[WebhookEndpoint]:
    return await EndpointRepository(session).of_project(project_id)


async def update(
    session: AsyncSession,
    client: WebhookClient,
    endpoint: WebhookEndpoint,
    body: WebhookUpdate,
) -> WebhookEndpoint:
    fields = body.model_fields_set
    if "url" in fields:
        if body.url is None:
            raise BadRequest("url cannot be null")
        await check_url(client, body.url)
        endpoint.url = body.url
    if "event_types" in fields:
        endpoint.event_types = body.event_types
    if "description" in fields and body.description is not None:
        endpoint.description = body.description
    if "enabled" in fields and body.enabled is not None:
        endpoint.enabled = body.enabled
        if body.enabled:
            endpoint.disabled_reason = None
            endpoint.failing_since = None
    endpoint.updated_at = utcnow()
    await session.flush()
    return endpoint


async def delete(session: AsyncSession, endpoint: WebhookEndpoint) -> None:
    await EndpointRepository(session).delete(endpoint)


async def rotate_secret(
    session: AsyncSession, endpoint: WebhookEndpoint, settings: WebhookSettings
) -> tuple[str, datetime]:
    """A new secret; the old one keeps signing (a second signature) for the overlap."""
    until = utcnow() + timedelta(seconds=settings.rotation_overlap_seconds)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = until
    endpoint.secret = signing.new_secret()
    endpoint.updated_at = utcnow()
    await session.flush()
    return endpoint.secret, until


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    out = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        out.append(endpoint.previous_secret)
    return out


def wants(endpoint: WebhookEndpoint, event_type: str) -> bool:
    return endpoint.event_types is None or event_type in endpoint.event_types


def message(event_type: str, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The body: {type, timestamp, data}."""
    return {"type": event_type, "timestamp": at.isoformat(), "data": data}


def new_delivery(
    endpoint_id: str,
    event_type: str,
    occurred_at: datetime,
    data: dict[str, Any],
    *,
    event_id: str | None = None,
) -> WebhookDelivery:
    """A pending delivery, due now. An event's webhook-id is its event id (the same
    at every endpoint and on every attempt); other messages get one of their own."""
    return WebhookDelivery(
        id=new_id(),
        endpoint_id=endpoint_id,
        event_id=event_id,
        message_id=f"msg_{event_id or new_id()}",
        event_type=event_type,
        payload=message(event_type, occurred_at, data),
        status=DeliveryStatus.pending,
        attempts=0,
        next_attempt_at=utcnow(),
        occurred_at=occurred_at,
    )


async def fan_out(session: AsyncSession, events: Sequence[dict[str, Any]]) -> int:
    """Deliveries of domain events (outbox payloads) to every enabled endpoint of
    their project that wants their type; an (endpoint, event) pair already delivered
    is skipped, so consuming an event twice makes no second delivery."""
    events = [e for e in events if isinstance(e.get("id"), str) and e.get("project_id")]
    if not events:
        return 0
    endpoints = await EndpointRepository(session).enabled_of_projects(
        {str(e["project_id"]) for e in events}
    )
    deliveries = DeliveryRepository(session)
    done = await deliveries.delivered_endpoints([str(e["id"]) for e in events])
    out: list[WebhookDelivery] = []
    for event in events:
        kind, event_id = str(event["type"]), str(event["id"])
        occurred = datetime.fromisoformat(str(event["occurred_at"]))
        for endpoint in endpoints:
            if endpoint.project_id != event["project_id"] or not wants(endpoint, kind):
                continue
            if occurred < endpoint.created_at:
                continue  # history from before the endpoint existed (a new consumer group)
            if (endpoint.id, event_id) in done:
                continue
            data = event.get("data") or {}
            out.append(new_delivery(endpoint.id, kind, occurred, data, event_id=event_id))
    await deliveries.add_all(out)
    return len(out)


async def send_test(session: AsyncSession, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A `webhook.test` message to this endpoint, whatever its filter."""
    now = utcnow()
    data = {"endpoint_id": endpoint.id, "project_id": endpoint.project_id}
    delivery = new_delivery(endpoint.id, TEST_EVENT, now, data)
    await DeliveryRepository(session).add_all([delivery])
    return delivery


async def notify_disabled(session: AsyncSession, endpoint: WebhookEndpoint, reason: str) -> int:
    """`webhook.endpoint_disabled` to the project's other enabled endpoints."""
    now = utcnow()
    data = {
        "endpoint_id": endpoint.id,
        "project_id": endpoint.project_id,
        "url": endpoint.url,
        "reason": reason,
        "failing_since": endpoint.failing_since.isoformat() if endpoint.failing_since else None,
    }
    others = await EndpointRepository(session).enabled_of_projects({endpoint.project_id})
    out = [
        new_delivery(o.id, ENDPOINT_DISABLED_EVENT, now, data)
        for o in others
        if o.id != endpoint.id and wants(o, ENDPOINT_DISABLED_EVENT)
    ]
    await DeliveryRepository(session).add_all(out)
    return len(out)


async def retry(
    session: AsyncSession, endpoint: WebhookEndpoint, delivery_id: str
) -> WebhookDelivery:
    """Send a delivery again now, with a fresh retry schedule and the same webhook-id."""
    delivery = await DeliveryRepository(session).of_endpoint(endpoint.id, delivery_id)
    if delivery is None:
        raise NotFound("delivery not found")
    delivery.status = DeliveryStatus.pending
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.leased_until = None
    delivery.finished_at = None
    await session.flush()
    return delivery


def encode_cursor(delivery: WebhookDelivery) -> str:
    raw = f"{delivery.created_at.isoformat()}|{delivery.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, delivery_id = raw.split("|", 1)
        parsed = datetime.fromisoformat(at)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadRequest("not a valid cursor") from exc
    if parsed.tzinfo is None:
        raise BadRequest("not a valid cursor")
    return parsed, delivery_id


async def deliveries_page(
    session: AsyncSession, endpoint: WebhookEndpoint, cursor: str | None, limit: int
) -> tuple[Sequence[WebhookDelivery], str | None]:
    before = decode_cursor(cursor) if cursor else None
    rows = await DeliveryRepository(session).page(endpoint.id, before, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1]) if more and rows else None)
