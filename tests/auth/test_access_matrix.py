"""Every route against every kind of caller, each cell asserting the exact status.

Runs in process on PostgreSQL. Requests that change something get fresh objects per
cell (a new failed video to reprocess, a new key to revoke ...), so cells are independent.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from streamcore.auth import service as auth
from streamcore.auth.principal import Principal, PrincipalKind, Scope
from streamcore.db.base import utcnow
from streamcore.infra import Infra
from streamcore.models import (
    ApiKey,
    AssetStatus,
    JobKind,
    JobStatus,
    MemberRole,
    User,
)
from streamcore.organizations import invitations
from streamcore.organizations import service as organizations
from streamcore.processing import service as processing
from streamcore.projects import service as projects
from streamcore.security.access_tokens import AccessTokenCodec
from streamcore.sessions import recordings
from streamcore.sessions import service as sessions
from streamcore.uploads import presign, tus
from streamcore.uploads.schemas import PresignCreate
from streamcore.videos import layout
from streamcore.webhooks import service as webhooks
from streamcore.webhooks.schemas import WebhookCreate
from tests.auth.conftest import Api
from tests.seed import seed_asset

# Callers whose credentials must never get past authentication.
REJECTED = [
    "anonymous",
    "revoked_key",
    "expired_key",
    "expired_jwt",
    "jwt_other_key",
    "jwt_alg_none",
    "malformed_header",
    "garbage_token",
    "inactive_user",
]
ADMITTED = [
    "other_org_user",
    "collaborator",
    "owner",
    "superadmin",
    "key_read",
    "key_upload",
    "key_stream",
    "key_admin",
    "key_other_project",
]
CALLERS = REJECTED + ADMITTED
OTHER_EMAIL = "other@b.example"
NOBODY = "invited@nowhere.example"
USERS = ADMITTED[:4]
KEYS = ADMITTED[4:]


def expect(
    other: int,
    collab: int,
    owner: int,
    superadmin: int,
    keys: int | tuple[int, int, int, int, int],
    *,
    rejected: int = 401,
) -> dict[str, int]:
    """A row: statuses for the admitted callers (keys: read, upload, stream, admin,
    other project), `rejected` for the rest."""
    key_statuses = keys if isinstance(keys, tuple) else (keys,) * 5
    row = dict(zip(ADMITTED, (other, collab, owner, superadmin, *key_statuses), strict=True))
    row.update(dict.fromkeys(REJECTED, rejected))
    return row


def public(status: int) -> dict[str, int]:
    return dict.fromkeys(CALLERS, status)


@dataclass
class World:
    infra: Infra
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def principal(self, name: str) -> Principal:
        return Principal(PrincipalKind.user, self.ids[name])


Build = Callable[[World], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # the app's route path
    expected: dict[str, int]
    url: str = ""  # formatted with World.ids; default: the template
    build: Build | None = None  # extra request arguments (and fresh objects) per cell

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


def fmt(path: str, world: World) -> str:
    return path.format(**world.ids)


async def fresh_user(world: World) -> User:
    async with world.infra.transaction() as s:
        user = User(email=f"u-{uuid.uuid4().hex[:12]}@example.com", password_hash="")
        s.add(user)
        await s.flush()
    return user


async def build_invite(world: World) -> dict[str, Any]:
    user = await fresh_user(world)
    return {"json": {"email": user.email, "role": "collaborator"}}


async def _invitation(world: World, email: str) -> str:
    async with world.infra.transaction() as s:
        invitation = await invitations.invite(
            s, world.principal("owner"), world.ids["org"], email, MemberRole.collaborator, 600
        )
    return invitation.id


async def build_invitation_revoke(world: World) -> dict[str, Any]:
    invitation = await _invitation(world, (await fresh_user(world)).email)
    return {"url": fmt("/organizations/{org}/invitations/", world) + invitation}


async def build_accept(world: World) -> dict[str, Any]:
    """An invitation to an address none of the callers has (the invitee's own accept
    is in test_access.py: here it would change the world for later cells)."""
    return {"url": f"/invitations/{await _invitation(world, NOBODY)}/accept"}


async def build_decline(world: World) -> dict[str, Any]:
    return {"url": f"/invitations/{await _invitation(world, NOBODY)}"}


async def build_member_delete(world: World) -> dict[str, Any]:
    user = await fresh_user(world)
    async with world.infra.transaction() as s:
        await organizations.add_member(
            s, world.principal("owner"), world.ids["org"], user, MemberRole.collaborator
        )
    return {"url": fmt("/organizations/{org}/members/", world) + user.id}


async def build_key_delete(world: World) -> dict[str, Any]:
    async with world.infra.transaction() as s:
        created = await auth.create_api_key(
            s,
            world.principal("owner"),
            world.ids["project"],
            name="to revoke",
            scopes=frozenset({Scope.read}),
            expires_at=None,
        )
    return {"url": fmt("/projects/{project}/api-keys/", world) + created.key.id}


async def build_reprocess(world: World) -> dict[str, Any]:
    async with world.infra.transaction() as s:
        asset = await seed_asset(s, project_id=world.ids["project"], status=AssetStatus.failed)
    return {"url": fmt("/reprocess/{project}/", world) + asset.id}


async def build_upload(world: World) -> dict[str, Any]:
    return {"files": {"file": ("clip.mp4", b"not really a video", "video/mp4")}}


async def build_events(world: World) -> dict[str, Any]:
    # A finished video: its event stream sends the final state and ends.
    async with world.infra.transaction() as s:
        asset = await seed_asset(s, project_id=world.ids["project"], status=AssetStatus.ready)
    return {"url": f"/videos/{asset.id}/events"}


async def _take(world: World, *, with_chunk: bool) -> str:
    async with world.infra.transaction() as s:
        take = await recordings.start_take(s, world.ids["project"], world.ids["session"], "t")
    if with_chunk:
        await world.infra.storage.put_bytes(recordings.chunk_key(take.id, 0), b"webm bytes")
    return take.id


async def build_chunk(world: World) -> dict[str, Any]:
    take = await _take(world, with_chunk=False)
    return {
        "url": fmt("/sessions/{session}/recordings/", world) + f"{take}/chunks/0",
        "content": b"x",
    }


async def build_complete(world: World) -> dict[str, Any]:
    take = await _take(world, with_chunk=True)
    url = fmt("/sessions/{session}/recordings/", world) + f"{take}/complete"
    return {"url": url, "json": {"chunks": 1}}


TUS = {"Tus-Resumable": "1.0.0"}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def _tus_upload(world: World, length: int = 4) -> str:
    async with world.infra.transaction() as s:
        upload = await tus.create(
            world.infra, s, length=length, meta={"project_id": world.ids["project"]}, principal="t"
        )
    return upload.id


async def build_tus_create(world: World) -> dict[str, Any]:
    meta = f"project_id {_b64(world.ids['project'])},filename {_b64('a.mp4')}"
    return {"headers": {**TUS, "Upload-Length": "4", "Upload-Metadata": meta}}


async def build_tus_head(world: World) -> dict[str, Any]:
    return {"url": f"/uploads/tus/{await _tus_upload(world)}", "headers": TUS}


async def build_tus_patch(world: World) -> dict[str, Any]:
    headers = {
        **TUS,
        "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream",
    }
    return {
        "url": f"/uploads/tus/{await _tus_upload(world)}",
        "headers": headers,
        "content": b"abcd",
    }


async def build_tus_delete(world: World) -> dict[str, Any]:
    return {"url": f"/uploads/tus/{await _tus_upload(world)}", "headers": TUS}


async def build_presign_complete(world: World) -> dict[str, Any]:
    """A presigned upload whose bytes are in storage: completing it starts processing."""
    urls = presign.Urls(local_put=lambda a: f"http://x/{a}", complete=lambda a: f"http://x/{a}")
    body = PresignCreate(project_id=world.ids["project"], filename="a.mp4", size=4)
    async with world.infra.transaction() as s:
        out = await presign.create(world.infra, s, body, "t", urls)
    await world.infra.storage.put_bytes(layout.source_key(out.asset_id), b"abcd")
    return {"url": f"/uploads/{out.asset_id}/complete"}


async def _video_with_job(world: World, job_status: JobStatus) -> tuple[str, str]:
    async with world.infra.transaction() as s:
        asset = await seed_asset(
            s,
            project_id=world.ids["project"],
            status=AssetStatus.uploaded,
        )
        job = await processing.enqueue(s, asset.id, JobKind.ingest, max_attempts=3)
        job.status = job_status
    return asset.id, job.id


async def build_admin_stop(world: World) -> dict[str, Any]:
    video_id, _ = await _video_with_job(world, JobStatus.queued)
    return {"url": f"/admin/video/{video_id}/stop"}


async def build_admin_retry(world: World) -> dict[str, Any]:
    _, job_id = await _video_with_job(world, JobStatus.dead)
    return {"url": f"/admin/jobs/{job_id}/retry"}


async def _fresh_video(world: World) -> str:
    async with world.infra.transaction() as s:
        asset = await seed_asset(s, project_id=world.ids["project"], status=AssetStatus.ready)
    return asset.id


async def build_video_patch(world: World) -> dict[str, Any]:
    return {"url": f"/videos/{await _fresh_video(world)}", "json": {"title": "renamed"}}


async def build_video_delete(world: World) -> dict[str, Any]:
    return {"url": f"/videos/{await _fresh_video(world)}"}


async def build_project_delete(world: World) -> dict[str, Any]:
    """A fresh project of the organization (keys belong to another: they get 404)."""
    async with world.infra.transaction() as s:
        project = await projects.create_project(s, "to delete", world.ids["org"])
    return {"url": f"/projects/{project.id}"}


async def build_session_patch(world: World) -> dict[str, Any]:
    async with world.infra.transaction() as s:
        rec = await sessions.create_session(s, world.ids["project"], "to rename")
    return {"url": f"/sessions/{rec.id}", "json": {"name": "renamed"}}


HOOK_URL = "http://127.0.0.2:9/hook"  # allowlisted in tests/auth/conftest.py; never called


async def _webhook(world: World) -> str:
    body = WebhookCreate(url=HOOK_URL)
    async with world.infra.transaction() as s:
        endpoint = await webhooks.create(s, world.infra.webhooks, world.ids["project"], body)
    return endpoint.id


def webhook_url(suffix: str = "", **request: Any) -> Build:
    """A fresh endpoint of the project per cell; the URL of it (plus suffix)."""

    async def build(world: World) -> dict[str, Any]:
        hook = await _webhook(world)
        return {"url": fmt("/projects/{project}/webhooks/", world) + hook + suffix, **request}

    return build


async def build_delivery_retry(world: World) -> dict[str, Any]:
    hook = await _webhook(world)
    async with world.infra.transaction() as s:
        endpoint = await webhooks.get(s, world.ids["project"], hook)
        delivery = await webhooks.send_test(s, endpoint)
    path = f"/projects/{{project}}/webhooks/{hook}/deliveries/{delivery.id}/retry"
    return {"url": fmt(path, world)}


def body(payload: dict[str, Any]) -> Build:
    async def build(world: World) -> dict[str, Any]:
        return {"json": {k: fmt(v, world) if isinstance(v, str) else v for k, v in payload.items()}}

    return build


# (other_org_user, collaborator, owner, superadmin, keys: read, upload, stream, admin, other)
READ = expect(404, 200, 200, 200, (200, 403, 200, 200, 404))


def upload_action(status: int) -> dict[str, int]:
    """A row for an action that needs upload rights: status for members and upload-capable
    keys, 403 for read/stream-only keys, 404 for other organizations and projects."""
    return expect(404, status, status, status, (403, status, 403, status, 404))


UPLOAD_CREATED = upload_action(201)
ADMIN_ONLY = expect(403, 403, 403, 200, 403)
USER_ONLY_OK = expect(200, 200, 200, 200, 403)
OWNER_ONLY = expect(404, 403, 201, 201, 403)
# Project settings: owners, super-admins and admin keys of the project.
MANAGE_OK = expect(404, 403, 200, 200, (403, 403, 403, 200, 404))


def manage(status: int) -> dict[str, int]:
    """Owners, super-admins and admin-scoped keys of the project."""
    return expect(404, 403, status, status, (403, 403, 403, status, 404))


HOOKS = "/projects/{project_id}/webhooks"
HOOK = HOOKS + "/{webhook_id}"

ROUTES = [
    Route("GET", "/health", public(200)),
    Route("GET", "/metrics", public(200)),
    Route("GET", "/openapi.json", public(200)),
    Route("GET", "/docs", public(200)),
    Route("GET", "/docs/oauth2-redirect", public(200)),
    Route("GET", "/stream/{token}", public(403), "/stream/not-a-token.m3u8"),
    Route("HEAD", "/stream/{token}", public(403), "/stream/not-a-token.m3u8"),
    # Beacons: the playback token in the batch is the credential, whoever calls; a batch
    # without one is a 400 for everybody (tests/analytics checks the token rules).
    Route("POST", "/analytics/events", public(400), build=body({"events": []})),
    Route("GET", "/analytics", READ, "/analytics?project_id={project}"),
    Route("GET", "/analytics/uploads", READ, "/analytics/uploads?project_id={project}"),
    Route(
        "POST",
        "/auth/login",
        public(401),
        build=body({"email": "nobody@example.com", "password": "wrong password"}),
    ),
    Route(
        "POST",
        "/auth/register",
        public(403),  # registration is off by default
        build=body({"email": "new@example.com", "password": "a long password"}),
    ),
    Route("POST", "/auth/refresh", public(401), build=body({"refresh_token": "rt_unknown"})),
    Route(
        "POST",
        "/auth/logout",
        expect(204, 204, 204, 204, 403),
        build=body({"refresh_token": "rt_unknown"}),
    ),
    Route("GET", "/auth/me", USER_ONLY_OK),
    Route("POST", "/organizations", expect(201, 201, 201, 201, 403), build=body({"name": "o"})),
    Route("GET", "/organizations", USER_ONLY_OK),
    Route(
        "GET",
        "/organizations/{organization_id}/members",
        expect(404, 200, 200, 200, 403),
        "/organizations/{org}/members",
    ),
    Route(
        "POST",
        "/organizations/{organization_id}/invitations",
        OWNER_ONLY,
        "/organizations/{org}/invitations",
        build_invite,
    ),
    Route(
        "GET",
        "/organizations/{organization_id}/invitations",
        expect(404, 403, 200, 200, 403),
        "/organizations/{org}/invitations",
    ),
    Route(
        "DELETE",
        "/organizations/{organization_id}/invitations/{invitation_id}",
        expect(404, 403, 204, 204, 403),
        build=build_invitation_revoke,
    ),
    Route("GET", "/invitations", USER_ONLY_OK),
    # Only the invited address may accept or decline: even its organization's owner and
    # a super-admin read a missing invitation.
    Route(
        "POST",
        "/invitations/{invitation_id}/accept",
        expect(404, 404, 404, 404, 403),
        build=build_accept,
    ),
    Route(
        "DELETE",
        "/invitations/{invitation_id}",
        expect(404, 404, 404, 404, 403),
        build=build_decline,
    ),
    Route(
        "DELETE",
        "/organizations/{organization_id}/members/{user_id}",
        expect(404, 403, 204, 204, 403),
        build=build_member_delete,
    ),
    Route(
        "POST",
        "/projects",
        OWNER_ONLY,
        build=body({"name": "new project", "organization_id": "{org}"}),
    ),
    Route("GET", "/projects", expect(200, 200, 200, 200, 200)),
    Route("GET", "/projects/{project_id}", READ, "/projects/{project}"),
    Route(
        "PATCH",
        "/projects/{project_id}",
        MANAGE_OK,
        "/projects/{project}",
        body({"auto_transcribe": False}),
    ),
    Route(
        "DELETE",
        "/projects/{project_id}",
        expect(404, 403, 202, 202, 404),
        build=build_project_delete,
    ),
    Route(
        "POST",
        "/projects/{project_id}/api-keys",
        OWNER_ONLY,
        "/projects/{project}/api-keys",
        body({"name": "k", "scopes": ["read"]}),
    ),
    Route(
        "GET",
        "/projects/{project_id}/api-keys",
        expect(404, 403, 200, 200, 403),
        "/projects/{project}/api-keys",
    ),
    Route(
        "DELETE",
        "/projects/{project_id}/api-keys/{key_id}",
        expect(404, 403, 204, 204, 403),
        build=build_key_delete,
    ),
    Route(
        "POST",
        HOOKS,
        manage(201),
        "/projects/{project}/webhooks",
        body({"url": HOOK_URL, "event_types": ["video.ready"]}),
    ),
    Route("GET", HOOKS, manage(200), "/projects/{project}/webhooks"),
    Route("GET", HOOK, manage(200), build=webhook_url()),
    Route("PATCH", HOOK, manage(200), build=webhook_url(json={"description": "changed"})),
    Route("DELETE", HOOK, manage(204), build=webhook_url()),
    Route("POST", HOOK + "/rotate-secret", manage(200), build=webhook_url("/rotate-secret")),
    Route("POST", HOOK + "/test", manage(202), build=webhook_url("/test")),
    Route("GET", HOOK + "/deliveries", manage(200), build=webhook_url("/deliveries")),
    Route(
        "POST",
        HOOK + "/deliveries/{delivery_id}/retry",
        manage(202),
        build=build_delivery_retry,
    ),
    Route("POST", "/sessions", UPLOAD_CREATED, build=body({"project_id": "{project}"})),
    Route("GET", "/sessions/{session_id}", READ, "/sessions/{session}"),
    Route("GET", "/sessions", READ, "/sessions?project_id={project}"),
    Route("PATCH", "/sessions/{session_id}", upload_action(200), build=build_session_patch),
    Route("POST", "/{project_id}/upload", UPLOAD_CREATED, "/{project}/upload", build_upload),
    Route("GET", "/videos/{video_id}", READ, "/videos/{video}"),
    # A project of another organization (or key) reads as a missing one.
    Route("GET", "/videos", READ, "/videos?project_id={project}"),
    Route("PATCH", "/videos/{video_id}", upload_action(200), build=build_video_patch),
    Route("DELETE", "/videos/{video_id}", upload_action(202), build=build_video_delete),
    Route("GET", "/videos/{video_id}/events", READ, build=build_events),
    Route(
        "POST",
        "/sessions/{session_id}/recordings",
        UPLOAD_CREATED,
        "/sessions/{session}/recordings",
        body({"name": "take"}),
    ),
    Route(
        "PUT",
        "/sessions/{session_id}/recordings/{video_id}/chunks/{index}",
        upload_action(204),
        build=build_chunk,
    ),
    Route(
        "POST",
        "/sessions/{session_id}/recordings/{video_id}/complete",
        upload_action(200),
        build=build_complete,
    ),
    Route(
        "POST",
        "/reprocess/{project_id}/{video_id}",
        upload_action(202),
        build=build_reprocess,
    ),
    Route(
        "POST",
        "/media/transcribe",
        # A video that is not ready: past access control, the transcription is refused.
        upload_action(409),
        build=body({"video_id": "{video}"}),
    ),
    Route(
        "POST",
        "/uploads/presign",
        UPLOAD_CREATED,
        build=body({"project_id": "{project}", "filename": "a.mp4", "size": 10}),
    ),
    # The signed URL is the credential: a bad signature is refused whoever calls.
    Route(
        "PUT",
        "/uploads/{asset_id}/object",
        public(403),
        "/uploads/{video}/object?upload=u&exp=9999999999&sig=forged",
    ),
    Route(
        "POST",
        "/uploads/{asset_id}/complete",
        upload_action(200),
        build=build_presign_complete,
    ),
    Route("OPTIONS", "/uploads/tus/", public(204)),
    Route("POST", "/uploads/tus/", UPLOAD_CREATED, build=build_tus_create),
    Route(
        "HEAD",
        "/uploads/tus/{upload_id}",
        upload_action(200),
        build=build_tus_head,
    ),
    Route(
        "PATCH",
        "/uploads/tus/{upload_id}",
        upload_action(204),
        build=build_tus_patch,
    ),
    Route(
        "DELETE",
        "/uploads/tus/{upload_id}",
        upload_action(204),
        build=build_tus_delete,
    ),
    Route("GET", "/admin/jobs", ADMIN_ONLY),
    Route(
        "POST",
        "/admin/video/{video_id}/stop",
        ADMIN_ONLY,
        build=build_admin_stop,
    ),
    Route(
        "POST",
        "/admin/jobs/{job_id}/retry",
        ADMIN_ONLY,
        build=build_admin_retry,
    ),
    Route("GET", "/admin/stats", ADMIN_ONLY),
]

CELLS = [(route, caller) for route in ROUTES for caller in CALLERS]


def test_the_table_covers_every_route_of_the_app(api: Api) -> None:
    declared = {
        (method.upper(), path)
        for path, operations in api.app.openapi()["paths"].items()
        for method in operations
    }
    # The documentation pages are not in the schema they serve.
    declared |= {("GET", p) for p in ("/openapi.json", "/docs", "/docs/oauth2-redirect")}
    assert {(r.method, r.template) for r in ROUTES} == declared
    assert len(CELLS) == len(ROUTES) * len(CALLERS)


def _jwt_none(subject: str, kid: str) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"sub": subject, "iat": now, "exp": now + 600, "typ": "access"}
    return f"{part({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{part(claims)}."


async def _key(
    infra: Infra, owner: Principal, project_id: str, scopes: set[Scope]
) -> tuple[str, str]:
    async with infra.transaction() as s:
        created = await auth.create_api_key(
            s, owner, project_id, name="matrix", scopes=frozenset(scopes), expires_at=None
        )
    return created.key.id, created.secret


@pytest.fixture(scope="session")
async def world(api: Api) -> World:
    infra = api.infra
    w = World(infra)
    async with infra.transaction() as s:
        owner = await auth.create_user(s, infra, "owner@a.example", "owner password")
        collab = await auth.create_user(s, infra, "collab@a.example", "collab password")
        other = await auth.create_user(s, infra, OTHER_EMAIL, "other password")
        admin = await auth.create_user(
            s, infra, "root@example.com", "admin password", superadmin=True
        )
        inactive = await auth.create_user(s, infra, "gone@a.example", "gone password")
        org = await organizations.create_organization(s, "Org A", owner.id)
        owner_p = Principal(PrincipalKind.user, owner.id)
        await organizations.add_member(s, owner_p, org.id, collab, MemberRole.collaborator)
        await organizations.add_member(s, owner_p, org.id, inactive, MemberRole.owner)
        inactive.is_active = False
        project = await projects.create_project(s, "A", org.id)
        sibling = await projects.create_project(s, "A2", org.id)
        other_org = await organizations.first_owned(s, other.id)
        assert other_org is not None
        await projects.create_project(s, "B", other_org.id)
        rec = await sessions.create_session(s, project.id, "session")
        video = await seed_asset(s, project_id=project.id, status=AssetStatus.uploaded)
    w.ids.update(owner=owner.id, org=org.id, project=project.id, session=rec.id, video=video.id)

    tokens = infra.access_tokens
    for name, user in (
        ("owner", owner),
        ("collaborator", collab),
        ("other_org_user", other),
        ("superadmin", admin),
        ("inactive_user", inactive),
    ):
        w.headers[name] = {"Authorization": f"Bearer {tokens.issue(user.id)}"}
    for scope in Scope:
        _, secret = await _key(infra, owner_p, project.id, {scope})
        w.headers[f"key_{scope}"] = {"X-API-Key": secret}
    _, secret = await _key(infra, owner_p, sibling.id, set(Scope))
    # The other header form for API keys gets the same table.
    w.headers["key_other_project"] = {"Authorization": f"Bearer {secret}"}
    revoked_id, revoked = await _key(infra, owner_p, project.id, set(Scope))
    expired_id, expired = await _key(infra, owner_p, project.id, set(Scope))
    async with infra.transaction() as s:
        await auth.revoke_api_key(s, project.id, revoked_id)
        await s.execute(
            update(ApiKey)
            .where(ApiKey.id == expired_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    w.headers["revoked_key"] = {"X-API-Key": revoked}
    w.headers["expired_key"] = {"Authorization": f"Bearer {expired}"}
    w.headers["anonymous"] = {}
    w.headers["expired_jwt"] = {
        "Authorization": f"Bearer {tokens.issue(owner.id, now=int(time.time()) - 3600)}"
    }
    foreign = AccessTokenCodec.from_secret("another server's secret", 900)
    w.headers["jwt_other_key"] = {"Authorization": f"Bearer {foreign.issue(owner.id)}"}
    w.headers["jwt_alg_none"] = {"Authorization": f"Bearer {_jwt_none(owner.id, tokens.kid)}"}
    w.headers["malformed_header"] = {"Authorization": "Token abc def"}
    w.headers["garbage_token"] = {"Authorization": "Bearer not.a.jwt"}
    assert set(w.headers) == set(CALLERS)
    return w


@pytest.mark.parametrize(("route", "caller"), CELLS, ids=[f"{r.name} | {c}" for r, c in CELLS])
async def test_access(api: Api, world: World, route: Route, caller: str) -> None:
    kwargs = await route.build(world) if route.build is not None else {}
    if "url" not in kwargs:
        kwargs["url"] = fmt(route.url or route.template, world)
    headers = {**world.headers[caller], **kwargs.pop("headers", {})}
    async with api.client() as client:
        resp = await client.request(route.method, headers=headers, **kwargs)
    expected = route.expected[caller]
    assert resp.status_code == expected, resp.text
    if expected == 401:
        assert resp.headers["www-authenticate"].startswith("Bearer")
    if expected >= 400 and route.method != "HEAD":  # a HEAD answer has no body
        assert resp.json()["error"]  # the error shape, never a stack trace


ID = re.compile(r"\b[0-9a-f]{32}\b")
# Routes that answer 404 to a caller of another organization: the object is foreign.
FOREIGN = [r for r in ROUTES if r.expected["other_org_user"] == 404]


def _with_missing_ids(value: Any) -> Any:
    """value with every id in it replaced by a well-formed id that no object has."""
    if isinstance(value, str):
        return ID.sub(lambda _: uuid.uuid4().hex, value)
    if isinstance(value, dict):
        return {k: _with_missing_ids(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("route", FOREIGN, ids=[r.name for r in FOREIGN])
async def test_a_foreign_object_reads_exactly_like_a_missing_one(
    api: Api, world: World, route: Route
) -> None:
    """One "not found": a caller of another organization gets the very answer, status
    and body, that a request for an id nobody has gets."""
    kwargs = await route.build(world) if route.build is not None else {}
    if "url" not in kwargs:
        kwargs["url"] = fmt(route.url or route.template, world)
    headers = {**world.headers["other_org_user"], **kwargs.pop("headers", {})}
    missing = {k: _with_missing_ids(v) if k in ("url", "json") else v for k, v in kwargs.items()}
    missing_headers = dict(headers)
    if "Upload-Metadata" in headers:  # tus: ids in base64 values
        missing_headers["Upload-Metadata"] = ",".join(
            f"{key} {_b64(_with_missing_ids(base64.b64decode(value).decode()))}"
            for key, value in (pair.split(" ") for pair in headers["Upload-Metadata"].split(","))
        )
    assert (missing, missing_headers) != (kwargs, headers), "no id to replace"
    async with api.client() as client:
        foreign = await client.request(route.method, headers=headers, **kwargs)
        absent = await client.request(route.method, headers=missing_headers, **missing)
    assert foreign.status_code == absent.status_code == 404, (foreign.text, absent.text)
    if route.method != "HEAD":
        assert foreign.json() == absent.json()
