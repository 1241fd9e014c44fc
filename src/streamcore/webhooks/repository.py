"""All SQL of webhooks: endpoints, deliveries, and the outbox rows owed to them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from streamcore.models import DeliveryStatus, OutboxEvent, WebhookDelivery, WebhookEndpoint

EVENTS_TOPIC = "events"


class EndpointRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        self.session.add(endpoint)
        await self.session.flush()
        return endpoint

    async def get(self, project_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        stmt = select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.project_id == project_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def by_id(self, endpoint_id: str) -> WebhookEndpoint | None:
        return await self.session.get(WebhookEndpoint, endpoint_id)

    async def of_project(self, project_id: str) -> Sequence[WebhookEndpoint]:
        stmt = (
            select(WebhookEndpoint)
            .where(WebhookEndpoint.project_id == project_id)
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def enabled_of_projects(self, project_ids: set[str]) -> Sequence[WebhookEndpoint]:
        if not project_ids:
            return []
        stmt = select(WebhookEndpoint).where(
            WebhookEndpoint.project_id.in_(project_ids), WebhookEndpoint.enabled.is_(True)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def lock(self, endpoint_ids: Sequence[str]) -> Sequence[WebhookEndpoint]:
        """The endpoints, locked for this transaction (in id order: no deadlocks), so
        claimers count one endpoint's requests in flight one at a time."""
        stmt = (
            select(WebhookEndpoint)
            .where(WebhookEndpoint.id.in_(sorted(endpoint_ids)))
            .order_by(WebhookEndpoint.id)
            # NO KEY UPDATE: deliveries being inserted (a key-share lock for their
            # foreign key) do not wait for a claim.
            .with_for_update(key_share=True)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def delete(self, endpoint: WebhookEndpoint) -> None:
        await self.session.delete(endpoint)
        await self.session.flush()


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_all(self, deliveries: Sequence[WebhookDelivery]) -> None:
        self.session.add_all(deliveries)
        await self.session.flush()

    async def delivered_endpoints(self, event_ids: Sequence[str]) -> set[tuple[str, str]]:
        """(endpoint id, event id) pairs that already have a delivery."""
        if not event_ids:
            return set()
        stmt = select(WebhookDelivery.endpoint_id, WebhookDelivery.event_id).where(
            WebhookDelivery.event_id.in_(event_ids)
        )
        return {(e, str(v)) for e, v in (await self.session.execute(stmt)).all()}

    async def due_endpoints(self, now: datetime, limit: int) -> list[str]:
        """Endpoints with a delivery due now (enabled ones only)."""
        stmt = (
            select(WebhookDelivery.endpoint_id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(_due(now), WebhookEndpoint.enabled.is_(True))
            .group_by(WebhookDelivery.endpoint_id)
            .order_by(func.min(WebhookDelivery.next_attempt_at))
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def in_flight(self, endpoint_ids: Sequence[str], now: datetime) -> dict[str, int]:
        stmt = (
            select(WebhookDelivery.endpoint_id, func.count())
            .where(
                WebhookDelivery.endpoint_id.in_(endpoint_ids),
                WebhookDelivery.status == DeliveryStatus.pending,
                WebhookDelivery.leased_until > now,
            )
            .group_by(WebhookDelivery.endpoint_id)
        )
        return {e: int(n) for e, n in (await self.session.execute(stmt)).all()}

    async def due_of(
        self, endpoint_id: str, now: datetime, limit: int
    ) -> Sequence[WebhookDelivery]:
        stmt = (
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id, _due(now))
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def get(self, delivery_id: str, *, for_update: bool = False) -> WebhookDelivery | None:
        stmt = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def many(self, delivery_ids: Sequence[str]) -> dict[str, WebhookDelivery]:
        """Deliveries by id, locked for this transaction."""
        if not delivery_ids:
            return {}
        stmt = (
            select(WebhookDelivery)
            .where(WebhookDelivery.id.in_(sorted(set(delivery_ids))))
            .order_by(WebhookDelivery.id)
            .with_for_update()
        )
        return {d.id: d for d in (await self.session.execute(stmt)).scalars().all()}

    async def of_endpoint(self, endpoint_id: str, delivery_id: str) -> WebhookDelivery | None:
        stmt = select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def page(
        self, endpoint_id: str, before: tuple[datetime, str] | None, limit: int
    ) -> Sequence[WebhookDelivery]:
        """Newest first, strictly older than the cursor (created_at, id)."""
        stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        if before is not None:
            at, last_id = before
            stmt = stmt.where(
                or_(
                    WebhookDelivery.created_at < at,
                    and_(WebhookDelivery.created_at == at, WebhookDelivery.id < last_id),
                )
            )
        stmt = stmt.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        return (await self.session.execute(stmt.limit(limit))).scalars().all()

    async def sweep(self, before: datetime) -> int:
        """Delete finished deliveries made before `before`."""
        stmt = delete(WebhookDelivery).where(
            WebhookDelivery.status != DeliveryStatus.pending, WebhookDelivery.created_at < before
        )
        result = await self.session.execute(stmt)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        WebhookDelivery.status == DeliveryStatus.pending,
        WebhookDelivery.next_attempt_at <= now,
        or_(WebhookDelivery.leased_until.is_(None), WebhookDelivery.leased_until <= now),
    )


class FanoutRepository:
    """Outbox rows not yet looked at for webhooks (every topic, so none stay behind;
    only `events` rows become deliveries)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def pending(self, limit: int) -> Sequence[OutboxEvent]:
        stmt = (
            select(OutboxEvent)
            .where(OutboxEvent.fanned_out_at.is_(None))
            .order_by(OutboxEvent.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def mark(self, event_ids: Sequence[str], at: datetime) -> None:
        """Stamp events fanned out (Kafka mode stamps the rows of what it consumed)."""
        if event_ids:
            await self.session.execute(
                update(OutboxEvent).where(OutboxEvent.id.in_(event_ids)).values(fanned_out_at=at)
            )
