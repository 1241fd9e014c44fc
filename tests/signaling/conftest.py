from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from tests.fixtures.services import LiveServer, live_server, postgres_database, server_env

JS_DIR = Path(__file__).parent / "js"


@dataclass
class Cluster:
    a: LiveServer  # API + worker
    b: LiveServer  # API only (--no-worker)


@pytest.fixture(scope="session")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, secret: str, redis_url: str
) -> Iterator[Cluster]:
    """Two API processes on one PostgreSQL database, one Redis and one data directory."""
    data = tmp_path_factory.mktemp("cluster")
    with postgres_database() as db_url:
        env = server_env(data, db_url, secret, STREAMCORE_REDIS__URL=redis_url)
        with live_server(data, env) as a, live_server(data, env, "--no-worker") as b:
            yield Cluster(a, b)


@pytest.fixture(scope="session")
def js_peer_script() -> Path:
    """The official socket.io-client from npm (installed by `make setup`)."""
    if shutil.which("node") is None:
        pytest.fail("node is not installed; `make setup` needs Node.js for the signaling tests")
    if not (JS_DIR / "node_modules" / "socket.io-client").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True)
    return JS_DIR / "peer.mjs"


@dataclass
class Peer:
    """A python-socketio client that records every event it receives."""

    client: socketio.AsyncClient
    events: asyncio.Queue[tuple[str, Any]] = field(default_factory=asyncio.Queue)

    @property
    def sid(self) -> str:
        sid = self.client.get_sid()
        assert sid is not None
        return str(sid)

    async def next(self, name: str, timeout: float = 10) -> Any:
        """The next event called name (others seen on the way are dropped)."""
        async with asyncio.timeout(timeout):
            while True:
                event, data = await self.events.get()
                if event == name:
                    return data

    async def call(self, event: str, data: Any) -> dict[str, Any]:
        ack: dict[str, Any] = await self.client.call(event, data, timeout=10)
        return ack

    def drained(self) -> list[tuple[str, Any]]:
        out = []
        while not self.events.empty():
            out.append(self.events.get_nowait())
        return out


async def connect_peer(url: str, auth: dict[str, str]) -> Peer:
    client = socketio.AsyncClient(reconnection=False)
    peer = Peer(client)

    @client.on("*")  # type: ignore[untyped-decorator]
    async def any_event(event: str, data: Any = None) -> None:
        await peer.events.put((event, data))

    await client.connect(url, auth=auth, transports=["websocket"], wait_timeout=10)
    return peer


@pytest.fixture
async def peers() -> AsyncIterator[list[Peer]]:
    """Peers a test connects; all disconnected at the end."""
    made: list[Peer] = []
    yield made
    for p in made:
        if p.client.connected:
            await p.client.disconnect()


def make_session(server: LiveServer) -> tuple[str, str]:
    with httpx.Client(base_url=server.base_url, timeout=30, headers=server.auth_headers) as c:
        project = c.post("/projects", json={"name": "signaling"}).json()["id"]
        session = c.post("/sessions", json={"project_id": project, "name": "call"}).json()["id"]
    return project, session
