"""Webhook endpoints of a project and the deliveries of messages to them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from streamcore.db.base import Base, IdMixin, TimestampMixin, UTCDateTime


class WebhookEndpoint(IdMixin, TimestampMixin, Base):
    __tablename__ = "webhook_endpoints"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True, nullable=False
    )
    url: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    # Event types delivered; None means every type.
    event_types: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    enabled: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true(), nullable=False
    )
    # Why the endpoint was disabled by us (gone, failing); None when a user did it.
    disabled_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # `whsec_<base64>`: signing needs the key itself, so it is kept (like API providers do).
    secret: Mapped[str] = mapped_column(String(128), nullable=False)
    # After a rotation the old secret signs too, until previous_secret_expires_at.
    previous_secret: Mapped[str | None] = mapped_column(String(128), nullable=True)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True
    )
    # The first failed attempt since the last success; None while the endpoint is healthy.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class DeliveryStatus(enum.StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"


class WebhookDelivery(IdMixin, TimestampMixin, Base):
    """One message to one endpoint, with its attempts. `message_id` is the
    `webhook-id` header: the same on every attempt of this delivery."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_log", "endpoint_id", "created_at", "id"),
    )

    endpoint_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False
    )
    # The domain event it carries; None for messages of our own (webhook.test ...).
    event_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    message_id: Mapped[str] = mapped_column(String(64), nullable=False)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    # The body sent, {type, timestamp, data}.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, native_enum=False, length=16, validate_strings=True),
        nullable=False,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # When the next attempt is due (None once finished).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # An attempt is in flight until then; past it, the worker doing it is presumed dead
    # and the delivery is due again (same message id).
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When the event was committed (for the event-to-first-attempt histogram).
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    last_latency_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # At most max_response_bytes (4 KiB) of the receiver's last answer.
    last_response: Mapped[str | None] = mapped_column(Text, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
