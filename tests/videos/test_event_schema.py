"""The event payload is documented: an OpenAPI webhook per type, one versioned schema,
and what the outbox holds validates against it."""

from __future__ import annotations

from streamcore.app import create_app
from streamcore.config import Settings
from streamcore.infra import Infra
from streamcore.models import AssetSource
from streamcore.projects import service as projects
from streamcore.videos import service as videos
from streamcore.videos.events import event_payload
from streamcore.videos.schemas import VideoEventType, VideoEventV1


def test_every_event_type_is_an_openapi_webhook_with_the_versioned_schema(
    tmp_path: object,
) -> None:
    app = create_app(Settings(_env_file=None, secret_key="s", data_dir=tmp_path))  # type: ignore[call-arg]
    doc = app.openapi()
    assert sorted(doc["webhooks"]) == sorted(t.value for t in VideoEventType)
    for hook in doc["webhooks"].values():
        body = hook["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/VideoEventV1"}
    schema = doc["components"]["schemas"]["VideoEventV1"]
    assert set(schema["required"]) >= {"id", "type", "occurred_at", "project_id", "video_id"}
    assert schema["properties"]["data"]["$ref"].startswith("#/components/schemas/VideoRead")


async def test_the_payload_round_trips_through_the_schema(infra: Infra) -> None:
    async with infra.transaction() as s:
        project = await projects.create_project(s, "schema")
        asset = await videos.create_asset(s, project_id=project.id, source=AssetSource.upload)
        payload = event_payload("e1", VideoEventType.created, asset.created_at, asset)
    parsed = VideoEventV1.model_validate(payload)
    assert (parsed.id, parsed.type, parsed.video_id, parsed.version) == (
        "e1", VideoEventType.created, asset.id, 1,
    )  # fmt: skip
    assert parsed.data.status == "awaiting_upload"
    assert parsed.model_dump(mode="json", by_alias=True) == payload
