"""Access rules beyond the table: hidden ids, members, keys, reprocessing, OpenAPI."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from streamcore.auth import service as auth
from streamcore.auth.dependencies import verify_credentials
from streamcore.auth.principal import PrincipalKind, Scope
from streamcore.db.base import utcnow
from streamcore.errors import Unauthorized
from streamcore.models import AssetStatus, Job, JobKind, JobStatus, User
from streamcore.organizations import service as organizations
from streamcore.projects import service as projects
from streamcore.sessions import service as sessions
from streamcore.videos import service as videos
from tests.auth.conftest import Api
from tests.seed import seed_asset

# A well-formed id that no object has.
MISSING = "0" * 32


class Tenant:
    """A user with a personal organization, a project, a session and a video."""

    user: User
    headers: dict[str, str]
    org_id: str
    project_id: str
    session_id: str
    video_id: str


async def tenant(api: Api, status: AssetStatus = AssetStatus.failed) -> Tenant:
    t = Tenant()
    async with api.infra.transaction() as s:
        t.user = await auth.create_user(
            s, api.infra, f"t-{uuid.uuid4().hex[:10]}@example.com", "tenant password"
        )
        org = await organizations.first_owned(s, t.user.id)
        assert org is not None
        t.org_id = org.id
        t.project_id = (await projects.create_project(s, "p", org.id)).id
        t.session_id = (await sessions.create_session(s, t.project_id, "s")).id
        asset = await seed_asset(s, project_id=t.project_id, status=status)
        t.video_id = asset.id
    t.headers = {"Authorization": f"Bearer {api.infra.access_tokens.issue(t.user.id)}"}
    return t


async def test_a_foreign_id_reads_exactly_like_a_missing_one(api: Api) -> None:
    mine, theirs = await tenant(api), await tenant(api)
    async with api.client(headers=mine.headers) as c:
        for path, missing in (
            (f"/videos/{theirs.video_id}", f"/videos/{MISSING}"),
            (f"/sessions/{theirs.session_id}", f"/sessions/{MISSING}"),
            (f"/organizations/{theirs.org_id}/members", f"/organizations/{MISSING}/members"),
            (f"/projects/{theirs.project_id}/api-keys", f"/projects/{MISSING}/api-keys"),
        ):
            foreign, absent = await c.get(path), await c.get(missing)
            assert foreign.status_code == absent.status_code == 404, path
            assert foreign.json() == absent.json(), path
        foreign = await c.post(f"/reprocess/{theirs.project_id}/{theirs.video_id}")
        absent = await c.post(f"/reprocess/{mine.project_id}/{MISSING}")
        assert foreign.json() == absent.json() == {"error": "NotFound", "detail": "video not found"}
        listed = {p["id"] for p in (await c.get("/projects")).json()}
        assert mine.project_id in listed
        assert theirs.project_id not in listed


async def test_reprocess_requeues_a_finished_video_in_one_transaction(api: Api) -> None:
    t = await tenant(api, AssetStatus.failed)
    async with api.infra.transaction() as s:
        asset = await videos.get_asset(s, t.video_id)
        asset.error_class, asset.error_message = "ProbeFailed", "not media"
    async with api.client(headers=t.headers) as c:
        resp = await c.post(f"/reprocess/{t.project_id}/{t.video_id}")
        assert resp.status_code == 202, resp.text
        assert resp.json()["status"] == "uploaded"
        assert resp.json()["error"] is None
        # Still working: a second request conflicts.
        again = await c.post(f"/reprocess/{t.project_id}/{t.video_id}")
        assert again.status_code == 409
    async with api.infra.transaction() as s:
        jobs = (await s.execute(select(Job).where(Job.asset_id == t.video_id))).scalars().all()
    assert [(j.kind, j.status) for j in jobs] == [(JobKind.ingest, JobStatus.queued)]


async def test_reprocess_of_a_video_in_another_project_is_404(api: Api) -> None:
    t = await tenant(api)
    async with api.infra.transaction() as s:
        other = await projects.create_project(s, "other", t.org_id)
    async with api.client(headers=t.headers) as c:
        resp = await c.post(f"/reprocess/{other.id}/{t.video_id}")
    assert resp.status_code == 404


async def invite_and_accept(api: Api, owner: Tenant, invitee: Tenant, role: str) -> None:
    async with api.client(headers=owner.headers) as c:
        sent = await c.post(
            f"/organizations/{owner.org_id}/invitations",
            json={"email": invitee.user.email, "role": role},
        )
        assert sent.status_code == 201, sent.text
    async with api.client(headers=invitee.headers) as c:
        accepted = await c.post(f"/invitations/{sent.json()['id']}/accept")
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["role"] == role


async def test_an_invitation_reads_the_same_whether_or_not_an_account_exists(api: Api) -> None:
    owner, invitee = await tenant(api), await tenant(api)
    base = f"/organizations/{owner.org_id}/invitations"
    async with api.client(headers=owner.headers) as c:
        known = await c.post(base, json={"email": invitee.user.email})
        unknown = await c.post(base, json={"email": f"nobody-{uuid.uuid4().hex}@example.com"})
        member = await c.post(base, json={"email": owner.user.email.upper()})
        for resp in (known, unknown, member):
            assert resp.status_code == 201, resp.text
            assert set(resp.json()) == {
                "id", "organization_id", "email", "role", "expires_at", "created_at"
            }  # fmt: skip
        # Nobody joined by being invited.
        members = {
            m["email"] for m in (await c.get(f"/organizations/{owner.org_id}/members")).json()
        }
        assert members == {owner.user.email}
        # The owner cannot accept on the invitee's behalf.
        assert (await c.post(f"/invitations/{known.json()['id']}/accept")).status_code == 404
        pending = {i["email"] for i in (await c.get(base)).json()}
        assert invitee.user.email in pending
    async with api.client(headers=invitee.headers) as c:
        mine = (await c.get("/invitations")).json()
        assert [(i["id"], i["organization_name"]) for i in mine] == [
            (known.json()["id"], f"{owner.user.email}'s organization")
        ]
        # Someone else's invitation reads like a missing one.
        foreign = await c.post(f"/invitations/{unknown.json()['id']}/accept")
        absent = await c.post(f"/invitations/{MISSING}/accept")
        assert foreign.status_code == absent.status_code == 404
        assert foreign.json() == absent.json()
        accepted = await c.post(f"/invitations/{known.json()['id']}/accept")
        assert accepted.status_code == 200
        assert accepted.json()["id"] == owner.org_id
        assert accepted.json()["role"] == "collaborator"
        # Used up: accepting again is a 404.
        assert (await c.post(f"/invitations/{known.json()['id']}/accept")).status_code == 404
        assert (await c.get(f"/videos/{owner.video_id}")).status_code == 200


async def test_members_the_last_owner_stays(api: Api) -> None:
    owner, newcomer = await tenant(api), await tenant(api)
    await invite_and_accept(api, owner, newcomer, "collaborator")
    base = f"/organizations/{owner.org_id}/members"
    async with api.client(headers=owner.headers) as c:
        members = {m["email"]: m["role"] for m in (await c.get(base)).json()}
        assert members == {owner.user.email: "owner", newcomer.user.email: "collaborator"}
        last = await c.delete(f"{base}/{owner.user.id}")
        assert last.status_code == 409
        assert (await c.delete(f"{base}/{newcomer.user.id}")).status_code == 204
        assert (await c.delete(f"{base}/{newcomer.user.id}")).status_code == 404
    # The collaborator sees the organization's projects while a member, not after.
    async with api.client(headers=newcomer.headers) as c:
        assert (await c.get(f"/videos/{owner.video_id}")).status_code == 404


async def test_a_collaborators_new_project_lands_in_their_own_organization(api: Api) -> None:
    owner, collab = await tenant(api), await tenant(api)
    await invite_and_accept(api, owner, collab, "collaborator")
    async with api.client(headers=collab.headers) as c:
        refused = await c.post("/projects", json={"name": "x", "organization_id": owner.org_id})
        assert refused.status_code == 403
        made = await c.post("/projects", json={"name": "x"})
        assert made.status_code == 201
        assert made.json()["organization_id"] == collab.org_id
        # ... and the collaborator works in the owner's project all the same.
        assert (await c.get(f"/videos/{owner.video_id}")).status_code == 200


async def test_api_keys_show_their_secret_once_and_record_use(api: Api) -> None:
    t = await tenant(api)
    expires = (utcnow() + timedelta(days=1)).isoformat()
    async with api.client(headers=t.headers) as c:
        made = await c.post(
            f"/projects/{t.project_id}/api-keys",
            json={"name": "ci", "scopes": ["upload", "read"], "expires_at": expires},
        )
        assert made.status_code == 201
        created = made.json()
        secret = created["key"]
        assert secret.startswith(f"sk_{created['prefix']}_")
        assert len(secret) > 50
        assert created["last_used_at"] is None
        past = await c.post(
            f"/projects/{t.project_id}/api-keys",
            json={"scopes": ["read"], "expires_at": "2000-01-01T00:00:00Z"},
        )
        assert past.status_code == 400
        none = await c.post(f"/projects/{t.project_id}/api-keys", json={"scopes": []})
        assert none.status_code == 422
    async with api.client(headers={"Authorization": f"Bearer {secret}"}) as c:
        assert (await c.get(f"/videos/{t.video_id}")).status_code == 200
    async with api.client(headers=t.headers) as c:
        listed = (await c.get(f"/projects/{t.project_id}/api-keys")).json()
        assert [k["id"] for k in listed] == [created["id"]]
        assert "key" not in listed[0]
        assert listed[0]["last_used_at"] is not None
        assert secret not in str(listed)
        assert (
            await c.delete(f"/projects/{t.project_id}/api-keys/{created['id']}")
        ).status_code == 204
    async with api.client(headers={"X-API-Key": secret}) as c:
        revoked = await c.get(f"/videos/{t.video_id}")
    assert revoked.status_code == 401
    assert revoked.json()["detail"] == "API key revoked"


async def test_admin_stats_for_superadmins(api: Api) -> None:
    async with api.infra.transaction() as s:
        root = await auth.create_user(
            s,
            api.infra,
            f"root-{uuid.uuid4().hex[:8]}@example.com",
            "root password",
            superadmin=True,
        )
    headers = {"Authorization": f"Bearer {api.infra.access_tokens.issue(root.id)}"}
    async with api.client(headers=headers) as c:
        resp = await c.get("/admin/stats")
    assert resp.status_code == 200
    assert all(isinstance(v, int) for v in resp.json()["jobs"].values())


async def test_openapi_declares_bearer_and_api_key_security(api: Api) -> None:
    async with api.client() as c:
        spec = (await c.get("/openapi.json")).json()
        docs = await c.get("/docs")
    schemes = spec["components"]["securitySchemes"]
    assert schemes["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["HTTPBearer"]["description"],
    }
    assert schemes["APIKeyHeader"]["type"] == "apiKey"
    assert schemes["APIKeyHeader"]["in"] == "header"
    assert schemes["APIKeyHeader"]["name"] == "X-API-Key"
    upload = spec["paths"]["/{project_id}/upload"]["post"]
    assert {"HTTPBearer": []} in upload["security"]
    assert {"APIKeyHeader": []} in upload["security"]
    assert "401" in upload["responses"]
    for public in ("/health", "/stream/{token}", "/auth/login", "/auth/refresh"):
        for operation in spec["paths"][public].values():
            assert "security" not in operation, public
    # Swagger UI offers its Authorize dialog for the declared schemes.
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text


async def test_the_verifier_serves_callers_outside_http(api: Api) -> None:
    """What the Socket.IO handshake calls: the same checks without a request."""
    t = await tenant(api)
    user = await verify_credentials(
        api.infra, authorization=t.headers["Authorization"], api_key=None
    )
    assert (user.kind, user.id, user.is_superadmin) == (PrincipalKind.user, t.user.id, False)
    async with api.infra.transaction() as s:
        created = await auth.create_api_key(
            s, user, t.project_id, name="ws", scopes=frozenset({Scope.upload}), expires_at=None
        )
    key = await verify_credentials(api.infra, authorization=None, api_key=created.secret)
    assert (key.kind, key.project_id, key.scopes) == (
        PrincipalKind.api_key,
        t.project_id,
        frozenset({Scope.upload}),
    )
    with pytest.raises(Unauthorized) as anonymous:
        await verify_credentials(api.infra, authorization=None, api_key=None)
    assert anonymous.value.headers == {"WWW-Authenticate": "Bearer"}
    with pytest.raises(Unauthorized):
        await verify_credentials(api.infra, authorization="Bearer sk_x_y", api_key=None)
