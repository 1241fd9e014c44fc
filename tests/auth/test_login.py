"""Logins, refresh tokens, registration and rate limits through the HTTP API."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import jwt
import pytest

from streamcore.auth import service as auth
from streamcore.auth import throttle
from streamcore.auth.principal import Principal, PrincipalKind, Scope
from streamcore.models import User
from streamcore.organizations import service as organizations
from streamcore.projects import service as projects
from tests.auth.conftest import Api, auth_settings, running_api

PASSWORD = "correct horse battery"


def email() -> str:
    return f"user-{uuid.uuid4().hex[:12]}@example.com"


async def make_user(api: Api, address: str | None = None) -> User:
    async with api.infra.transaction() as s:
        return await auth.create_user(s, api.infra, address or email(), PASSWORD)


async def login(api: Api, address: str, password: str = PASSWORD, ip: str = "10.0.0.1") -> int:
    async with api.client(ip) as c:
        resp = await c.post("/auth/login", json={"email": address, "password": password})
    return resp.status_code


async def test_login_returns_a_kid_signed_jwt_and_a_refresh_token(api: Api) -> None:
    user = await make_user(api)
    async with api.client() as c:
        resp = await c.post("/auth/login", json={"email": user.email.upper(), "password": PASSWORD})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 900
        assert body["refresh_token"].startswith("rt_")
        header = jwt.get_unverified_header(body["access_token"])
        assert header == {"alg": "HS256", "typ": "JWT", "kid": api.infra.access_tokens.kid}
        claims = jwt.decode(body["access_token"], options={"verify_signature": False})
        assert claims["sub"] == user.id
        assert claims["exp"] - claims["iat"] == 900
        me = await c.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.json()["email"] == user.email
        assert [o["role"] for o in me.json()["organizations"]] == ["owner"]


async def test_passwords_are_stored_as_argon2id_with_owasp_parameters(api: Api) -> None:
    user = await make_user(api)
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in user.password_hash


async def test_wrong_password_and_unknown_email_read_the_same(api: Api) -> None:
    user = await make_user(api)
    async with api.client() as c:
        wrong = await c.post("/auth/login", json={"email": user.email, "password": "nope nope"})
        unknown = await c.post("/auth/login", json={"email": email(), "password": "nope nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "error": "Unauthorized",
            "detail": "invalid email or password",
        }
    )


async def test_refresh_rotates_and_a_reused_token_revokes_the_login(api: Api) -> None:
    user = await make_user(api)
    async with api.client() as c:
        first = await c.post("/auth/login", json={"email": user.email, "password": PASSWORD})
        old = first.json()["refresh_token"]
        second = await c.post("/auth/refresh", json={"refresh_token": old})
        assert second.status_code == 200
        new = second.json()["refresh_token"]
        assert new != old
        # The old token again: someone holds a copy. Both it and its successor die.
        reused = await c.post("/auth/refresh", json={"refresh_token": old})
        assert reused.status_code == 401
        assert reused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert (await c.post("/auth/refresh", json={"refresh_token": new})).status_code == 401


async def test_logout_revokes_the_refresh_token(api: Api) -> None:
    user = await make_user(api)
    async with api.client() as c:
        tokens = await c.post("/auth/login", json={"email": user.email, "password": PASSWORD})
        pair = tokens.json()
        headers = {"Authorization": f"Bearer {pair['access_token']}"}
        out = await c.post(
            "/auth/logout", json={"refresh_token": pair["refresh_token"]}, headers=headers
        )
        assert out.status_code == 204
        again = await c.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert again.status_code == 401


async def test_someone_elses_refresh_token_is_not_revoked_by_my_logout(api: Api) -> None:
    mine, theirs = await make_user(api), await make_user(api)
    async with api.client() as c:
        a = (await c.post("/auth/login", json={"email": mine.email, "password": PASSWORD})).json()
        b = (await c.post("/auth/login", json={"email": theirs.email, "password": PASSWORD})).json()
        headers = {"Authorization": f"Bearer {a['access_token']}"}
        await c.post("/auth/logout", json={"refresh_token": b["refresh_token"]}, headers=headers)
        resp = await c.post("/auth/refresh", json={"refresh_token": b["refresh_token"]})
        assert resp.status_code == 200


@pytest.fixture(scope="module")
async def limited(tmp_path_factory: pytest.TempPathFactory, auth_pg_url: str) -> AsyncIterator[Api]:
    settings = auth_settings(
        tmp_path_factory.mktemp("limited"),
        auth_pg_url,
        login_ip_limit=5,
        login_pair_limit=3,
        login_account_limit=3,
        login_slowdown_base_seconds=0.01,
        login_slowdown_max_seconds=0.04,
        api_key_limit=3,
        registration_enabled=True,
    )
    async with running_api(settings) as built:
        yield built


async def test_failed_logins_per_account_and_address_are_limited_with_retry_after(
    limited: Api,
) -> None:
    user = await make_user(limited)
    statuses = [await login(limited, user.email, "wrong pass", ip="10.1.0.1") for _ in range(3)]
    assert statuses == [401, 401, 401]
    async with limited.client("10.1.0.1") as c:
        resp = await c.post("/auth/login", json={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 429
    assert 800 < int(resp.headers["retry-after"]) <= 900
    assert resp.json()["error"] == "TooManyRequests"
    # The guesser locked out only themselves: the user, elsewhere, logs in.
    assert await login(limited, user.email, PASSWORD, ip="10.1.0.2") == 200


async def test_guesses_from_many_addresses_slow_an_account_but_never_lock_it(
    limited: Api,
) -> None:
    user = await make_user(limited)
    statuses = [await login(limited, user.email, "wrong", ip=f"10.5.0.{i}") for i in range(8)]
    assert statuses == [401] * 8  # past the account limit: slowed, not refused
    assert await login(limited, user.email, PASSWORD, ip="10.5.1.1") == 200


def test_the_slowdown_doubles_up_to_its_cap() -> None:
    waits = [throttle.slowdown_seconds(n, 3, 0.25, 2.0) for n in range(1, 9)]
    assert waits == [0, 0, 0, 0.25, 0.5, 1.0, 2.0, 2.0]
    assert throttle.slowdown_seconds(10**6, 3, 0.25, 2.0) == 2.0


async def test_a_successful_login_clears_the_accounts_failures(limited: Api) -> None:
    user = await make_user(limited)
    tries = [await login(limited, user.email, "wrong pass", "10.2.0.1") for _ in range(2)]
    assert [*tries, await login(limited, user.email, PASSWORD, "10.2.0.1")] == [401, 401, 200]
    # Past the pair limit of 3 unless the good login cleared the count.
    assert [await login(limited, user.email, "wrong pass", "10.2.0.1") for _ in range(2)] == [
        401,
        401,
    ]


async def test_a_rotated_forwarded_for_from_an_untrusted_peer_changes_nothing(
    limited: Api,
) -> None:
    """No trusted proxies (the default): X-Forwarded-For is the client's own words."""
    statuses = []
    for i in range(6):
        async with limited.client("127.0.0.1") as c:
            resp = await c.post(
                "/auth/login",
                json={"email": email(), "password": "whatever!"},
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            )
        statuses.append(resp.status_code)
    assert statuses == [401] * 5 + [429]


async def test_behind_a_trusted_proxy_the_forwarded_address_counts(
    tmp_path: Path, auth_pg_url: str
) -> None:
    settings = auth_settings(tmp_path, auth_pg_url, login_ip_limit=2)
    settings.http.trusted_proxies = "127.0.0.1/32"
    async with running_api(settings) as api:

        async def attempt(forwarded: str, peer: str = "127.0.0.1") -> int:
            async with api.client(peer) as c:
                resp = await c.post(
                    "/auth/login",
                    json={"email": email(), "password": "whatever!"},
                    headers={"X-Forwarded-For": forwarded},
                )
            return resp.status_code

        # Each client behind the proxy has its own limit...
        assert [await attempt(f"198.51.100.{i}") for i in range(4)] == [401] * 4
        # ... an address the client prepended is ignored: the proxy appended the real one.
        assert [await attempt(f"1.2.3.{i}, 198.51.100.9") for i in range(3)] == [401, 401, 429]
        # A connection that is not the proxy is not believed.
        assert [await attempt(f"198.51.101.{i}", peer="10.9.9.9") for i in range(3)] == [
            401,
            401,
            429,
        ]


async def test_logins_per_address_are_limited(limited: Api) -> None:
    statuses = [await login(limited, email(), "whatever!", ip="10.3.0.1") for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    assert await login(limited, email(), "whatever!", ip="10.3.0.2") == 401


async def test_requests_per_api_key_are_limited(limited: Api) -> None:
    owner = await make_user(limited)
    async with limited.infra.transaction() as s:
        org = await organizations.first_owned(s, owner.id)
        assert org is not None
        project = await projects.create_project(s, "p", org.id)
        created = await auth.create_api_key(
            s,
            Principal(PrincipalKind.user, owner.id),
            project.id,
            name="busy",
            scopes=frozenset({Scope.read}),
            expires_at=None,
        )
    async with limited.client(headers={"X-API-Key": created.secret}) as c:
        statuses = [(await c.get("/projects")).status_code for _ in range(4)]
        last = await c.get("/projects")
    assert statuses == [200, 200, 200, 429]
    assert int(last.headers["retry-after"]) >= 1


async def test_registration_when_enabled(limited: Api, api: Api) -> None:
    address = email()
    async with limited.client("10.4.0.1") as c:
        created = await c.post("/auth/register", json={"email": address, "password": PASSWORD})
        assert created.status_code == 201, created.text
        assert created.json()["email"] == address
        again = await c.post("/auth/register", json={"email": address, "password": PASSWORD})
        assert again.status_code == 409
        weak = await c.post("/auth/register", json={"email": email(), "password": "short"})
        assert weak.status_code == 422
        bad = await c.post("/auth/register", json={"email": "no-at-sign", "password": PASSWORD})
        assert bad.status_code == 422
    assert await login(limited, address, ip="10.4.0.2") == 200
    async with api.client() as c:  # the default app: registration off
        off = await c.post("/auth/register", json={"email": email(), "password": PASSWORD})
    assert off.status_code == 403


async def test_redis_backed_limits_are_shared_by_every_node(
    tmp_path: Path, auth_pg_url: str, redis_url: str
) -> None:
    """Two API nodes on one Redis: guesses spread over both still hit one limit."""
    settings = auth_settings(tmp_path, auth_pg_url, login_pair_limit=2)
    settings.redis.url = redis_url
    async with running_api(settings) as node_a, running_api(settings) as node_b:
        assert node_a.infra.ratelimiter.name == "redis"
        user = await make_user(node_a)
        assert await login(node_a, user.email, "wrong pass") == 401
        assert await login(node_b, user.email, "wrong pass") == 401
        assert await login(node_a, user.email, PASSWORD) == 429
        # Clean up the shared counter for the next run on this Redis.
        for key in (throttle.pair_key(user.email, "10.0.0.1"), throttle.account_key(user.email)):
            await node_a.infra.ratelimiter.reset(key)
