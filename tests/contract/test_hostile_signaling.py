"""Property test: arbitrary payloads to every Socket.IO event of a real server get an
error acknowledgement, never a crash (InternalError) and never a relay or a join."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import socketio
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.fixtures.services import LiveServer, live_server, server_env

EVENTS = [
    "join-session", "leave-session", "offer", "answer", "ice-candidate", "subscribe",
    "unsubscribe",
]  # fmt: skip
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
keys = st.sampled_from(
    ["session_id", "to", "sdp", "type", "candidate", "name", "asset_id", "project_id"]
)
payloads = json_values | st.dictionaries(keys, json_values, max_size=5)


@pytest.fixture(scope="module")
def signaling_server(tmp_path_factory: pytest.TempPathFactory, secret: str) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("hostile-signaling")
    env = server_env(data, f"sqlite+aiosqlite:///{data / 'db.sqlite'}", secret)
    with live_server(data, env) as srv:
        yield srv


@pytest.fixture(scope="module")
async def sockets(
    signaling_server: LiveServer,
) -> AsyncIterator[tuple[socketio.AsyncClient, list[Any]]]:
    """The fuzzing client, and what a bystander in no session receives."""
    client, bystander = socketio.AsyncClient(), socketio.AsyncClient()
    seen: list[Any] = []
    bystander.on("*", lambda event, data: seen.append((event, data)))
    for c in (client, bystander):
        await c.connect(signaling_server.base_url, auth={"token": signaling_server.token})
    yield client, seen
    for c in (client, bystander):
        await c.disconnect()


@seed(16)
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(event=st.sampled_from(EVENTS), payload=payloads)
async def test_every_event_refuses_garbage_cleanly(
    sockets: tuple[socketio.AsyncClient, list[Any]], event: str, payload: Any
) -> None:
    client, seen = sockets
    ack = await client.call(event, payload, timeout=10)
    assert isinstance(ack, dict), ack
    # Nothing this client names exists or was joined: every answer is a refusal.
    assert ack["ok"] is False, ack
    assert ack["error"] != "InternalError", ack
    await asyncio.sleep(0)
    assert seen == []
