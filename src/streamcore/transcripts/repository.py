"""All SQL of transcripts: the outbox rows of their events."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.models import OutboxEvent


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, topic: str, key: str, payload: dict[str, Any]) -> OutboxEvent:
        event = OutboxEvent(topic=topic, key=key, payload=payload)
        self.session.add(event)
        await self.session.flush()
        return event
