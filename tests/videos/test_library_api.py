"""The library over HTTP (the app in process, on PostgreSQL): listing with a cursor
while videos arrive, filters, metadata at creation and by PATCH, errors."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from streamcore.auth import service as auth
from streamcore.db.base import utcnow
from streamcore.models import AssetSource, OutboxEvent
from streamcore.processing.runner import JobRunner
from streamcore.projects import service as projects
from streamcore.videos import service as videos
from streamcore.videos.schemas import MAX_METADATA_BYTES, VideoDescription
from streamcore.worker import job_registry
from tests.auth.conftest import Api, auth_settings, running_api
from tests.fixtures.services import postgres_database


@pytest.fixture(scope="module")
def lib_pg_url() -> Iterator[str]:
    """A database of its own: the job runs below take every job in it."""
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
async def lib(tmp_path_factory: pytest.TempPathFactory, lib_pg_url: str) -> AsyncIterator[Api]:
    async with running_api(auth_settings(tmp_path_factory.mktemp("library"), lib_pg_url)) as api:
        yield api


async def owner(api: Api) -> tuple[dict[str, str], str]:
    """A new user's bearer headers and a new project of theirs."""
    async with api.infra.transaction() as s:
        user = await auth.create_user(
            s, api.infra, f"lib-{uuid.uuid4().hex[:10]}@example.com", "library password"
        )
    headers = {"Authorization": f"Bearer {api.infra.access_tokens.issue(user.id)}"}
    async with api.client(headers=headers) as c:
        resp = await c.post("/projects", json={"name": "library"})
        assert resp.status_code == 201, resp.text
    return headers, resp.json()["id"]


async def add_videos(api: Api, project_id: str, count: int, **fields: Any) -> list[str]:
    async with api.infra.transaction() as s:
        return [
            (
                await videos.create_asset(
                    s,
                    project_id=project_id,
                    source=AssetSource.upload,
                    filename=f"v{i}.mp4",
                    **fields,
                )
            ).id
            for i in range(count)
        ]


async def test_a_walk_sees_every_video_once_while_fifty_more_arrive(lib: Api) -> None:
    headers, project = await owner(lib)
    existing = set(await add_videos(lib, project, 1000))
    seen: list[str] = []
    arrived: list[str] = []
    cursor: str | None = None
    async with lib.client(headers=headers) as c:
        for _ in range(20):
            params: dict[str, Any] = {"project_id": project, "limit": 100}
            if cursor:
                params["cursor"] = cursor
            resp = await c.get("/videos", params=params)
            assert resp.status_code == 200, resp.text
            page = resp.json()
            assert len(page["data"]) <= 100
            seen += [v["id"] for v in page["data"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
            # Uploads (presigned, through the API) between two pages: 50 in all.
            for i in range(min(6, 50 - len(arrived))):
                made = await c.post(
                    "/uploads/presign",
                    json={"project_id": project, "filename": f"new{i}.mp4", "size": 10},
                )
                assert made.status_code == 201, made.text
                arrived.append(made.json()["asset_id"])
    assert len(arrived) == 50
    assert len(seen) == len(set(seen)), "a video was listed twice"
    assert existing <= set(seen), f"{len(existing - set(seen))} videos were skipped"
    # Newer videos come before the cursor: a walk that began before them never sees them.
    assert not set(seen) & set(arrived)
    assert len(seen) == 1000


async def test_filters_text_external_id_and_tombstones(lib: Api) -> None:
    headers, project = await owner(lib)
    [plain] = await add_videos(lib, project, 1)
    async with lib.infra.transaction() as s:
        titled = await videos.create_asset(
            s, project_id=project, source=AssetSource.url, filename="talk.mp4",
            description=VideoDescription(title="Quarterly 100% Review", external_id="crm-7"),
        )  # fmt: skip
    async with lib.client(headers=headers) as c:

        async def ids(**params: Any) -> list[str]:
            resp = await c.get("/videos", params={"project_id": project, **params})
            assert resp.status_code == 200, resp.text
            return [v["id"] for v in resp.json()["data"]]

        assert await ids() == [titled.id, plain]
        assert await ids(q="100% rev") == [titled.id]
        assert await ids(q="v0.MP4") == [plain]
        assert await ids(q="%") == [titled.id]  # a literal %, not a wildcard
        assert await ids(external_id="crm-7") == [titled.id]
        assert await ids(source="url") == [titled.id]
        assert await ids(status="awaiting_upload", limit=1) == [titled.id]
        after = (utcnow() - timedelta(hours=1)).isoformat()
        assert await ids(created_after=after, created_before=utcnow().isoformat()) == [
            titled.id,
            plain,
        ]
        assert await ids(created_before=after) == []

        resp = await c.delete(f"/videos/{plain}")
        assert resp.status_code == 202, resp.text
        assert resp.json()["status"] == "deleting"
        again = await c.delete(f"/videos/{plain}")
        assert (again.status_code, again.json()) == (202, resp.json())
        # Deleting, not yet a tombstone: still listed, without playback.
        assert plain in await ids()


async def test_bad_listing_requests_are_clear_400s(lib: Api) -> None:
    headers, project = await owner(lib)
    async with lib.client(headers=headers) as c:
        unknown = await c.get("/videos", params={"project_id": project, "colour": "red"})
        assert unknown.status_code == 400
        assert unknown.json() == {
            "error": "BadRequest",
            "detail": "unknown query parameter(s): colour",
        }
        forged = base64.urlsafe_b64encode(json.dumps(["v9", "x", 1]).encode()).decode()
        for cursor in ("not-a-cursor", forged):
            bad = await c.get("/videos", params={"project_id": project, "cursor": cursor})
            assert bad.status_code == 400, bad.text
            assert bad.json()["error"] == "BadRequest"
        big = await c.get("/videos", params={"project_id": project, "limit": 101})
        assert big.status_code == 422
        other = await c.get("/videos", params={"project_id": uuid.uuid4().hex})
        assert other.status_code == 404
        # Times are RFC 3339 (format: date-time), never bare numbers taken as Unix seconds.
        for value in ("0", "0.5", "1700000000", "yesterday"):
            when = await c.get("/videos", params={"project_id": project, "created_after": value})
            assert when.status_code == 422, (value, when.text)
        fine = await c.get(
            "/videos", params={"project_id": project, "created_after": "2026-01-01T00:00:00Z"}
        )
        assert fine.status_code == 200, fine.text
        # PostgreSQL stores no NUL in text: a clear 400, and the name stays as it was.
        for path in (f"/projects/{project}",):
            nul = await c.patch(path, json={"name": "a\u0000b"})
            assert nul.status_code == 400, nul.text
            assert nul.json()["error"] == "BadRequest"
        assert (await c.get(f"/projects/{project}")).json()["name"] == "library"
        # Booleans in bodies are JSON booleans: 0 or "yes" are refused, not coerced.
        for value in (0, 1, "yes", "true"):
            patch = await c.patch(f"/projects/{project}", json={"auto_transcribe": value})
            assert patch.status_code == 422, (value, patch.text)


async def test_metadata_at_creation_and_by_patch(lib: Api) -> None:
    headers, project = await owner(lib)
    async with lib.client(headers=headers) as c:
        made = await c.post(
            "/uploads/presign",
            json={
                "project_id": project, "filename": "a.mp4", "size": 10, "title": "First",
                "external_id": "ext-a", "passthrough": "opaque", "metadata": {"k": "v"},
            },
        )  # fmt: skip
        assert made.status_code == 201, made.text
        video_id = made.json()["asset_id"]
        video = (await c.get(f"/videos/{video_id}")).json()
        assert (video["title"], video["external_id"], video["passthrough"], video["metadata"]) == (
            "First",
            "ext-a",
            "opaque",
            {"k": "v"},
        )
        dup = await c.post(
            "/uploads/presign",
            json={"project_id": project, "filename": "b.mp4", "size": 10, "external_id": "ext-a"},
        )
        assert dup.status_code == 409, dup.text
        assert dup.json()["error"] == "Conflict"

        patched = await c.patch(
            f"/videos/{video_id}", json={"description": "about it", "passthrough": None}
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["description"] == "about it"
        assert patched.json()["passthrough"] is None
        assert patched.json()["title"] == "First"  # not sent, not changed

        too_big = {"metadata": {"k": "x" * MAX_METADATA_BYTES}}
        resp = await c.patch(f"/videos/{video_id}", json=too_big)
        assert resp.status_code == 422
        assert "16384 bytes" in resp.text
        resp = await c.patch(f"/videos/{video_id}", json={"passthrough": "é" * 128})
        assert resp.status_code == 422
        assert "255 bytes" in resp.text
        resp = await c.patch(f"/videos/{video_id}", json={"colour": "red"})
        assert resp.status_code == 422

        [other] = await add_videos(lib, project, 1)
        taken = await c.patch(f"/videos/{other}", json={"external_id": "ext-a"})
        assert taken.status_code == 409, taken.text

    async with lib.infra.transaction() as s:
        rows = await s.execute(select(OutboxEvent).where(OutboxEvent.key == video_id))
        events = [e.payload for e in rows.scalars()]
    assert [e["type"] for e in events] == ["video.created", "video.updated"]
    assert events[0]["data"]["passthrough"] == "opaque"
    assert events[1]["data"]["description"] == "about it"


async def test_form_upload_and_url_import_take_the_description(lib: Api) -> None:
    headers, project = await owner(lib)
    async with lib.client(headers=headers) as c:
        resp = await c.post(
            f"/{project}/upload",
            data={"title": "From a form", "metadata": json.dumps({"a": "b"})},
            files={"file": ("x.mp4", b"not really a video", "video/mp4")},
        )
        assert resp.status_code == 201, resp.text
        assert (resp.json()["title"], resp.json()["metadata"]) == ("From a form", {"a": "b"})
        bad = await c.post(
            f"/{project}/upload",
            data={"metadata": "[1, 2]"},
            files={"file": ("x.mp4", b"bytes", "video/mp4")},
        )
        assert bad.status_code == 400, bad.text
        assert "metadata" in bad.json()["detail"]


async def test_tus_upload_metadata_carries_the_description(lib: Api) -> None:
    headers, project = await owner(lib)

    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    meta = f"project_id {b64(project)},title {b64('Via tus')},external_id {b64('tus-1')}"
    async with lib.client(headers=headers) as c:
        resp = await c.post(
            "/uploads/tus/",
            headers={"Tus-Resumable": "1.0.0", "Upload-Length": "4", "Upload-Metadata": meta},
        )
        assert resp.status_code == 201, resp.text
        video = (await c.get(f"/videos/{resp.headers['X-Asset-Id']}")).json()
    assert (video["title"], video["external_id"]) == ("Via tus", "tus-1")


async def test_projects_and_sessions(lib: Api) -> None:
    headers, project = await owner(lib)
    async with lib.client(headers=headers) as c:
        got = await c.get(f"/projects/{project}")
        assert got.status_code == 200
        assert got.json()["playback_ttl_seconds"] is None
        patched = await c.patch(
            f"/projects/{project}",
            json={"name": "renamed", "auto_transcribe": True, "playback_ttl_seconds": 600},
        )
        assert patched.status_code == 200, patched.text
        assert (patched.json()["name"], patched.json()["auto_transcribe"]) == ("renamed", True)
        assert (await c.patch(f"/projects/{project}", json={"name": None})).status_code == 400

        ids = []
        for name in ("one", "two", "three"):
            made = await c.post("/sessions", json={"project_id": project, "name": name})
            ids.append(made.json()["id"])
        first = await c.get("/sessions", params={"project_id": project, "limit": 2})
        assert [s["name"] for s in first.json()["data"]] == ["three", "two"]
        rest = await c.get(
            "/sessions",
            params={"project_id": project, "limit": 2, "cursor": first.json()["next_cursor"]},
        )
        assert [s["name"] for s in rest.json()["data"]] == ["one"]
        assert rest.json()["next_cursor"] is None

        ended = await c.patch(f"/sessions/{ids[0]}", json={"title": "kick-off", "ended": True})
        assert ended.status_code == 200, ended.text
        assert ended.json()["name"] == "kick-off"
        assert ended.json()["ended_at"]
        take = await c.post(f"/sessions/{ids[0]}/recordings", json={"name": "late"})
        assert take.status_code == 409, take.text
        reopen = await c.patch(f"/sessions/{ids[0]}", json={"ended": False})
        assert reopen.status_code == 409


async def test_deleting_a_project_removes_it_after_its_videos(lib: Api) -> None:
    headers, project = await owner(lib)
    async with lib.client(headers=headers) as c:
        key = await c.post(f"/projects/{project}/api-keys", json={"name": "k", "scopes": ["read"]})
        secret = key.json()["key"]
    video_ids = await add_videos(lib, project, 3)
    async with lib.client(headers=headers) as c:
        resp = await c.delete(f"/projects/{project}")
        assert resp.status_code == 202, resp.text
        assert resp.json() == {"id": project, "videos_deleting": 3}
        assert (await c.get(f"/projects/{project}")).status_code == 404
        assert (await c.get(f"/videos/{video_ids[0]}")).status_code == 404
    async with lib.client(headers={"Authorization": f"Bearer {secret}"}) as c:
        assert (await c.get("/videos")).status_code == 401
    assert await JobRunner(lib.infra, job_registry()).run_until_idle(timeout=60) >= 3
    async with lib.infra.transaction() as s:
        assert await projects.find_project(s, project) is None
        for video_id in video_ids:
            with pytest.raises(Exception, match="video not found"):
                await videos.get_asset(s, video_id)


def test_openapi_documents_the_library(lib: Api) -> None:
    paths = lib.app.openapi()["paths"]
    assert {"get"} <= set(paths["/videos"])
    assert {"get", "patch", "delete"} <= set(paths["/videos/{video_id}"])
    assert {"get", "patch", "delete"} <= set(paths["/projects/{project_id}"])
    assert "400" in paths["/videos"]["get"]["responses"]
    assert "409" in paths["/videos/{video_id}"]["patch"]["responses"]
