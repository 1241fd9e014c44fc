"""The app in process (its lifespan run, the worker off: tests drive the rollup) on
SQLite and on a PostgreSQL database of its own, an owner with a project, and beacon
builders."""

from __future__ import annotations

import contextlib
import itertools
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from streamcore.auth import service as auth
from streamcore.config import AnalyticsSettings
from streamcore.models import AssetStatus
from streamcore.organizations import service as organizations
from streamcore.projects import service as projects
from streamcore.stream import service as stream
from tests.auth.conftest import Api, auth_settings, running_api
from tests.conftest import BACKENDS
from tests.fixtures.services import postgres_database
from tests.seed import seed_asset

TOKEN_LIMIT = 8
_ips = itertools.count(1)


@dataclass
class World:
    api: Api
    headers: dict[str, str]
    project_id: str
    org_id: str

    async def video(self) -> tuple[str, str]:
        """A ready video of the project and its playback token (`<token>.m3u8`)."""
        infra = self.api.infra
        async with infra.transaction() as s:
            asset = await seed_asset(s, project_id=self.project_id, status=AssetStatus.ready)
        return asset.id, stream.playback_name(infra, asset.id, None)

    def client(self, **kwargs: Any) -> Any:
        """A client from an address of its own (the per-address limit stays out of the way)."""
        n = next(_ips)
        return self.api.client(ip=f"10.9.{n // 250}.{n % 250 + 1}", **kwargs)


@pytest.fixture(scope="module", params=BACKENDS)
async def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    data_dir = tmp_path_factory.mktemp(f"analytics-{request.param}")
    sqlite = contextlib.nullcontext(f"sqlite+aiosqlite:///{data_dir / 'streamcore.db'}")
    with postgres_database() if request.param == "postgresql" else sqlite as url:
        base = auth_settings(data_dir, url)
        cfg = AnalyticsSettings(
            token_limit=TOKEN_LIMIT,
            flush_seconds=0.1,
            rollup_seconds=0.2,
            max_clock_skew_seconds=3 * 86400,
        )
        settings = base.model_copy(update={"analytics": cfg})
        async with running_api(settings) as api:
            infra = api.infra
            async with infra.transaction() as s:
                email = f"owner-{secrets.token_hex(3)}@analytics.example"
                user = await auth.create_user(s, infra, email, "owner password")
                org = await organizations.create_organization(s, "Analytics org", user.id)
                project = await projects.create_project(s, "analytics", org.id)
            headers = {"Authorization": f"Bearer {infra.access_tokens.issue(user.id)}"}
            yield World(api, headers, project.id, org.id)


def view_events(
    *,
    seconds: float = 10.0,
    startup_ms: int = 800,
    viewer: str | None = None,
    rebuffer: tuple[float, float] | None = None,
    start_ms: int | None = None,
    rendition: str = "720p",
) -> list[dict[str, Any]]:
    """The beacons of one simulated view: play request, first frame after startup_ms,
    `seconds` of playing (heartbeats every 10 s), optionally a stall (at s, for s),
    then view_end."""
    view = secrets.token_hex(8)
    viewer = viewer or secrets.token_hex(8)
    t0 = start_ms if start_ms is not None else int(time.time() * 1000) - 60_000
    base = {"view_id": view, "viewer_id": viewer, "rendition": rendition, "bitrate": 2_500_000}

    def ev(kind: str, at: float, pos: float, **more: Any) -> dict[str, Any]:
        return {**base, "type": kind, "at": int(at), "player_time": pos, **more}

    play = t0 + startup_ms
    out = [ev("view_start", t0, 0), ev("first_frame", play, 0), ev("playing", play, 0)]
    marks = [10.0 * k for k in range(1, int(seconds // 10) + 1) if 10.0 * k < seconds]
    out += [ev("heartbeat", play + m * 1000, m) for m in marks]
    if rebuffer:
        at, length = rebuffer
        out.append(ev("rebuffer_start", play + at * 1000, at))
        out.append(
            ev("rebuffer_end", play + (at + length) * 1000, at, duration_ms=int(length * 1000))
        )
    out.append(ev("view_end", play + seconds * 1000, seconds - (rebuffer[1] if rebuffer else 0)))
    return sorted(out, key=lambda e: int(e["at"]))
