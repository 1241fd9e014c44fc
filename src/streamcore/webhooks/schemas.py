"""Webhook endpoints, deliveries and the messages they carry (Standard Webhooks)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictBool, WithJsonSchema, field_validator

from streamcore.models import DeliveryStatus
from streamcore.videos.schemas import VideoEventType

# Messages of webhooks themselves, besides the domain events of videos.
TEST_EVENT = "webhook.test"
ENDPOINT_DISABLED_EVENT = "webhook.endpoint_disabled"
EVENT_TYPES = frozenset({*(t.value for t in VideoEventType), TEST_EVENT, ENDPOINT_DISABLED_EVENT})


# An event type: the document lists exactly the names the validator accepts.
EventName = Annotated[str, WithJsonSchema({"type": "string", "enum": sorted(EVENT_TYPES)})]


def _check_types(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    unknown = sorted(set(value) - EVENT_TYPES)
    if unknown:
        raise ValueError(f"unknown event types: {', '.join(unknown)}")
    return sorted(set(value))


class WebhookCreate(BaseModel):
    url: str = Field(max_length=2000, description="http(s) URL on a public address")
    event_types: list[EventName] | None = Field(
        None, description="Event types to deliver (e.g. video.ready); null: every type"
    )
    description: str = Field("", max_length=500)
    enabled: StrictBool = True

    _types = field_validator("event_types")(_check_types)


class WebhookUpdate(BaseModel):
    url: str | None = Field(None, max_length=2000)
    event_types: list[EventName] | None = Field(None, description="null in the body: every type")
    description: str | None = Field(None, max_length=500)
    enabled: StrictBool | None = None

    _types = field_validator("event_types")(_check_types)


class WebhookRead(BaseModel):
    id: str
    project_id: str
    url: str
    event_types: list[str] | None
    description: str
    enabled: bool
    disabled_reason: str | None = Field(description="gone (410) or failing, when we disabled it")
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime

    model_config = {"from_attributes": True}


class WebhookCreated(WebhookRead):
    secret: str = Field(description="`whsec_...`: shown once; verify signatures with it")


class SecretRotated(BaseModel):
    secret: str = Field(description="The new `whsec_...` secret, shown once")
    previous_valid_until: datetime = Field(
        description="The old secret signs too (a second signature) until then"
    )


class DeliveryRead(BaseModel):
    id: str
    endpoint_id: str
    message_id: str = Field(description="The `webhook-id` header, the same on every attempt")
    event_id: str | None
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    last_latency_ms: int | None
    last_response: str | None = Field(description="At most 4 KiB of the last answer")
    created_at: datetime
    finished_at: datetime | None

    model_config = {"from_attributes": True}


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for older deliveries")


class WebhookMessage(BaseModel):
    """The body of every webhook request."""

    type: str
    timestamp: datetime
    data: dict[str, Any]
