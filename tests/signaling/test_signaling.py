"""WebRTC signaling through streamcore: real server processes, one real Redis, the
python-socketio client and the official JavaScript socket.io-client."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
import socketio

from streamcore.auth.bootstrap import ensure_user
from tests.fixtures.services import LiveServer, settings_of
from tests.helpers import upload
from tests.signaling.conftest import Cluster, Peer, connect_peer, make_session

OFFER_SDP = "v=0\r\no=py-offer 1 1 IN IP4 0.0.0.0\r\ns=-\r\n"


def owner(server: LiveServer) -> dict[str, str]:
    return {"token": server.token}


async def joined(
    server: LiveServer, session: str, peers: list[Peer], name: str = ""
) -> tuple[Peer, dict]:  # type: ignore[type-arg]
    peer = await connect_peer(server.base_url, owner(server))
    peers.append(peer)
    ack = await peer.call("join-session", {"session_id": session, "name": name})
    assert ack["ok"], ack
    return peer, ack


async def test_js_and_python_peers_on_two_nodes_complete_offer_answer_ice(
    cluster: Cluster, js_peer_script: Path, peers: list[Peer]
) -> None:
    _, session = make_session(cluster.a)
    js = await asyncio.create_subprocess_exec(
        "node", str(js_peer_script), cluster.b.base_url, session, cluster.b.token,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert js.stdout is not None
    js_lines: list[dict] = []  # type: ignore[type-arg]
    # Wait until the JS peer (on node B) has joined.
    async with asyncio.timeout(20):
        while not any(e["event"] == "joined" for e in js_lines):
            line = await js.stdout.readline()
            assert line, (await js.stderr.read()).decode()  # type: ignore[union-attr]
            js_lines.append(json.loads(line))
    js_id = next(e for e in js_lines if e["event"] == "connect")["data"]["id"]

    # The Python peer joins on node A and sees the JS peer in the list.
    py, ack = await joined(cluster.a, session, peers, "py-peer")
    assert [p["peer_id"] for p in ack["peers"]] == [js_id]
    assert ack["peers"][0]["name"] == "js-peer"

    assert (await py.call("offer", {"session_id": session, "to": js_id, "sdp": OFFER_SDP}))["ok"]
    answer = await py.next("answer")
    assert answer["from"] == js_id
    assert answer["sdp"].startswith("v=0")
    assert answer["type"] == "answer"
    candidate = await py.next("ice-candidate")
    assert candidate["from"] == js_id
    assert candidate["candidate"]["sdpMid"] == "0"
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
    assert seen["offer"]["from"] == py.sid
    assert seen["offer"]["sdp"] == OFFER_SDP
    assert seen["ice-candidate"]["candidate"] == ice
    assert seen["answer-ack"] == {"ok": True}


async def test_disconnect_is_seen_as_peer_left_across_nodes(
    cluster: Cluster, peers: list[Peer]
) -> None:
    _, session = make_session(cluster.a)
    first, _ = await joined(cluster.a, session, peers)
    second, ack = await joined(cluster.b, session, peers)
    assert [p["peer_id"] for p in ack["peers"]] == [first.sid]
    assert (await first.next("peer-joined"))["peer_id"] == second.sid
    gone = second.sid
    await second.client.disconnect()
    left = await first.next("peer-left")
    assert left == {"session_id": session, "peer_id": gone}
    # The presence list forgot it too.
    _third, ack = await joined(cluster.b, session, peers)
    assert [p["peer_id"] for p in ack["peers"]] == [first.sid]


async def test_relay_stays_in_the_room_and_never_echoes(
    cluster: Cluster, peers: list[Peer]
) -> None:
    project, s1 = make_session(cluster.a)
    async with httpx.AsyncClient(base_url=cluster.a.base_url, headers=cluster.a.auth_headers) as c:
        s2 = (await c.post("/sessions", json={"project_id": project})).json()["id"]
    sender, _ = await joined(cluster.a, s1, peers)
    same_room, _ = await joined(cluster.b, s1, peers)
    other_room, _ = await joined(cluster.b, s2, peers)
    await sender.next("peer-joined")
    assert (await sender.call("offer", {"session_id": s1, "sdp": OFFER_SDP}))["ok"]
    got = await same_room.next("offer")
    assert got["from"] == sender.sid
    await asyncio.sleep(0.5)
    assert [e for e, _ in sender.drained() if e == "offer"] == []
    assert [e for e, _ in other_room.drained() if e == "offer"] == []
    # A peer cannot send into a room it has not joined.
    ack = await other_room.call("offer", {"session_id": s1, "sdp": OFFER_SDP})
    assert ack["ok"] is False
    assert ack["error"] == "Forbidden"
    # Nor address a peer of another room by id.
    ack = await sender.call("offer", {"session_id": s1, "to": other_room.sid, "sdp": OFFER_SDP})
    assert ack["ok"] is False
    assert ack["error"] == "BadRequest"
    # Nor make the room see it leave: leave-session needs membership too.
    ack = await other_room.call("leave-session", {"session_id": s1})
    assert ack["ok"] is False
    assert ack["error"] == "Forbidden"
    await asyncio.sleep(0.5)
    assert [e for e, _ in sender.drained() if e == "peer-left"] == []


@pytest.mark.parametrize(
    ("event", "payload", "error"),
    [
        ("offer", {"session_id": "S", "sdp": "x" * (64 * 1024 + 1)}, "PayloadTooLarge"),
        ("offer", {"session_id": "S", "sdp": OFFER_SDP, "extra": 1}, "ValidationError"),
        ("offer", "not an object", "BadRequest"),
        (
            "ice-candidate",
            {"session_id": "S", "candidate": {"candidate": "c" * 5000}},
            "PayloadTooLarge",
        ),
        ("join-session", {"session_id": "0" * 32}, "NotFound"),
        ("join-session", {"session_id": "no-such-session"}, "ValidationError"),
        ("join-session", {"session_id": "../../etc"}, "ValidationError"),
        ("subscribe", {"asset_id": "a" * 32, "project_id": "b" * 32}, "BadRequest"),
        ("subscribe", {"asset_id": "a", "project_id": "p"}, "ValidationError"),
    ],
)
async def test_bad_payloads_get_an_error_event_not_a_crash(
    cluster: Cluster, peers: list[Peer], event: str, payload: object, error: str
) -> None:
    _, session = make_session(cluster.a)
    peer, _ = await joined(cluster.a, session, peers)
    if isinstance(payload, dict) and payload.get("session_id") == "S":
        payload = {**payload, "session_id": session}
    ack = await peer.call(event, payload)
    assert ack["ok"] is False, ack
    assert ack["error"] == error, ack
    pushed = await peer.next("signaling-error")
    assert pushed["error"] == error
    assert pushed["event"] == event
    # Still connected and working.
    assert peer.client.connected
    assert (await peer.call("leave-session", {"session_id": session}))["ok"]


async def test_job_progress_reaches_a_subscriber_on_another_node(
    cluster: Cluster, peers: list[Peer], media: Path
) -> None:
    project, _ = make_session(cluster.a)
    watcher = await connect_peer(cluster.b.base_url, owner(cluster.b))  # node B: no worker
    peers.append(watcher)
    assert (await watcher.call("subscribe", {"project_id": project}))["ok"]
    with httpx.Client(base_url=cluster.b.base_url, timeout=60, headers=cluster.b.auth_headers) as c:
        video = upload(c, project, media / "short360.mp4")
    statuses = []
    async with asyncio.timeout(60):
        while "ready" not in statuses:
            event, data = await watcher.events.get()
            if event == "asset-status" and data["asset_id"] == video["id"]:
                statuses.append(data["status"])
    # Every stage, in order (an upload may also announce `uploaded` first).
    stages = [st for st in statuses if st in ("ingesting", "transcoding", "ready")]
    assert list(dict.fromkeys(stages)) == ["ingesting", "transcoding", "ready"], statuses


async def test_handshake_without_valid_credentials_is_refused(
    cluster: Cluster, js_peer_script: Path
) -> None:
    for auth in ({}, {"token": "not-a-jwt"}, {"api_key": "sk_nope_nope"}):
        client = socketio.AsyncClient(reconnection=False)
        refusals: list[object] = []
        client.on("connect_error", refusals.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(cluster.a.base_url, auth=auth, transports=["websocket"])
        assert len(refusals) == 1, refusals
        assert refusals[0] == {  # type: ignore[comparison-overlap]
            "message": "Unauthorized",
            "data": {"error": "Unauthorized", "detail": refusals[0]["data"]["detail"]},  # type: ignore[index]
        }
    # The browser client sees the same refusal.
    js = await asyncio.create_subprocess_exec(
        "node", str(js_peer_script), cluster.b.base_url, "any-session", "not-a-jwt",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await js.communicate()
    assert js.returncode == 2
    event = json.loads(out.decode().splitlines()[0])
    assert event["event"] == "connect_error"
    assert event["data"]["message"] == "Unauthorized"
    assert event["data"]["data"]["error"] == "Unauthorized"


async def test_peer_of_another_organization_cannot_join_or_send(
    cluster: Cluster, peers: list[Peer]
) -> None:
    _, session = make_session(cluster.a)
    member, _ = await joined(cluster.a, session, peers)
    # A user of another organization, registered on the same cluster.
    email = "stranger@elsewhere.test"
    await ensure_user(settings_of(cluster.a.env), email, "stranger password")
    async with httpx.AsyncClient(base_url=cluster.b.base_url) as c:
        login = await c.post("/auth/login", json={"email": email, "password": "stranger password"})
    stranger = await connect_peer(cluster.b.base_url, {"token": login.json()["access_token"]})
    peers.append(stranger)
    ack = await stranger.call("join-session", {"session_id": session})
    # Exactly what a missing session answers: the id leaks nothing.
    assert ack == {
        "ok": False,
        "event": "join-session",
        "error": "NotFound",
        "detail": "session not found",
    }
    ack = await stranger.call("offer", {"session_id": session, "sdp": OFFER_SDP})
    assert ack["error"] == "Forbidden"
    ack = await stranger.call("offer", {"session_id": session, "to": member.sid, "sdp": OFFER_SDP})
    assert ack["error"] == "Forbidden"
    await asyncio.sleep(0.3)
    assert [e for e, _ in member.drained() if e in ("offer", "peer-joined")] == []
