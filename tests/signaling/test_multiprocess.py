"""Two Granian worker processes behind one port: the official JavaScript socket.io-client
and a python-socketio peer, each on a different process (found from the kernel's view
of who holds which connection), complete an offer/answer/ICE exchange through Redis."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import psutil
import pytest

from tests.fixtures.services import LiveServer, live_server, postgres_database, server_env
from tests.signaling.conftest import Peer, connect_peer, make_session

OFFER_SDP = "v=0\r\no=py-offer 1 1 IN IP4 0.0.0.0\r\ns=-\r\n"
T = TypeVar("T")


@pytest.fixture(scope="module")
def two_process_server(
    tmp_path_factory: pytest.TempPathFactory, secret: str, redis_url: str
) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("two-proc")
    with postgres_database() as db_url:
        env = server_env(data, db_url, secret, STREAMCORE_REDIS__URL=redis_url)
        with live_server(data, env, "--workers", "2", "--no-worker") as srv:
            yield srv


def http_workers(server: LiveServer) -> list[psutil.Process]:
    port = int(server.base_url.rsplit(":", 1)[1])
    found = []
    for child in psutil.Process(server.process.pid).children(recursive=True):
        try:
            if any(c.laddr and c.laddr.port == port for c in child.net_connections("tcp")):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def connections_by_pid(server: LiveServer) -> set[tuple[int, int]]:
    """(worker pid, client port) of every established connection to the server."""
    port = int(server.base_url.rsplit(":", 1)[1])
    out = set()
    for proc in http_workers(server):
        for c in proc.net_connections("tcp"):
            if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port and c.raddr:
                out.add((proc.pid, c.raddr.port))
    return out


async def landed_on(server: LiveServer, connect: Callable[[], Awaitable[T]]) -> tuple[T, int]:
    """Run connect and tell which worker process took its (one, websocket) connection."""
    before = connections_by_pid(server)
    made = await connect()
    for _ in range(200):
        if new := connections_by_pid(server) - before:
            break
        await asyncio.sleep(0.05)
    pids = {pid for pid, _ in new}
    assert len(pids) == 1, new
    return made, pids.pop()


async def test_two_processes_one_port_js_and_python_peers_meet(
    two_process_server: LiveServer, js_peer_script: Path, peers: list[Peer]
) -> None:
    server = two_process_server
    workers = http_workers(server)
    assert len(workers) == 2, [w.pid for w in workers]
    _, session = make_session(server)

    async def start_js() -> asyncio.subprocess.Process:
        js = await asyncio.create_subprocess_exec(
            "node", str(js_peer_script), server.base_url, session, server.token,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        return js

    js, js_pid = await landed_on(server, start_js)
    assert js.stdout is not None
    js_lines: list[dict] = []  # type: ignore[type-arg]
    async with asyncio.timeout(20):
        while not any(e["event"] == "joined" for e in js_lines):
            line = await js.stdout.readline()
            assert line, (await js.stderr.read()).decode()  # type: ignore[union-attr]
            js_lines.append(json.loads(line))
    js_id = next(e for e in js_lines if e["event"] == "connect")["data"]["id"]

    # Python peers until one is taken by the other process (the kernel spreads
    # accepts; extra peers stay connected but never join the session).
    py = None
    for _ in range(30):
        peer, pid = await landed_on(
            server, lambda: connect_peer(server.base_url, {"token": server.token})
        )
        peers.append(peer)
        if pid != js_pid:
            py = peer
            break
    assert py is not None, "every connection went to the JS peer's process"

    ack = await py.call("join-session", {"session_id": session, "name": "py-peer"})
    assert ack["ok"], ack
    assert [p["peer_id"] for p in ack["peers"]] == [js_id]
    assert (await py.call("offer", {"session_id": session, "to": js_id, "sdp": OFFER_SDP}))["ok"]
    answer = await py.next("answer")
    assert answer["from"] == js_id
    candidate = await py.next("ice-candidate")
    assert candidate["from"] == js_id
    ice = {
        "candidate": "candidate:2 1 udp 1 10.0.0.1 5000 typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
    }
    await py.call("ice-candidate", {"session_id": session, "to": js_id, "candidate": ice})
    async with asyncio.timeout(20):
        rest, err = await js.communicate()
    js_lines += [json.loads(ln) for ln in rest.decode().splitlines()]
    assert js.returncode == 0, (js_lines, err.decode())
    seen = {e["event"]: e["data"] for e in js_lines}
    assert seen["peer-joined"]["peer_id"] == py.sid
    assert seen["offer"]["sdp"] == OFFER_SDP
    assert seen["ice-candidate"]["candidate"]["candidate"] == ice["candidate"]
