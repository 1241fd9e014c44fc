"""Domain events waiting for the bus (the outbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from streamcore.db.base import Base, IdMixin, TimestampMixin, UTCDateTime


class OutboxEvent(IdMixin, TimestampMixin, Base):
    """An event written in the transaction that caused it; a relay publishes it to its
    topic after commit and stamps `published_at`. The embedded bus has no relay, so
    rows stay unpublished there and serve as the event history."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_events_unpublished", "published_at", "created_at"),
        Index("ix_outbox_events_fanout", "fanned_out_at", "created_at"),
    )

    topic: Mapped[str] = mapped_column(String(128), nullable=False)
    # Partition key: events of one asset stay in order.
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When webhook deliveries were made of it (in the same transaction); None: not yet.
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
