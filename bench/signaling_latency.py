"""Signaling relay benchmark: 500 Socket.IO clients in 50 session rooms on one
`streamcore serve`, each peer in turn sending an offer to its room.

Prints relay latency p50/p99 (send to receipt; all clients live in this process, so
their clocks agree) and the server's CPU use, for streamcore and for a reference run
with the same clients against bare python-socketio that only re-emits to the room
(bench/socketio_reference.py): the ratios are what auth, validation and presence cost.

    .venv/bin/python -m bench.signaling_latency [--clients 500] [--rooms 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import socketio
from tests.fixtures.services import free_port, live_server, postgres_database, server_env


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_clients(
    url: str, token: str, sessions: list[str], per_room: int, rounds: int
) -> list[float]:
    latencies: list[float] = []
    clients: list[tuple[socketio.AsyncClient, str]] = []

    async def make(session_id: str) -> None:
        client = socketio.AsyncClient(reconnection=False)

        @client.on("offer")  # type: ignore[untyped-decorator]
        async def on_offer(data: dict[str, Any]) -> None:
            latencies.append(time.perf_counter() - float(data["sdp"]))

        await client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=30)
        ack = await client.call("join-session", {"session_id": session_id}, timeout=30)
        assert ack["ok"], ack
        clients.append((client, session_id))

    sem = asyncio.Semaphore(50)

    async def limited(session_id: str) -> None:
        async with sem:
            await make(session_id)

    await asyncio.gather(*(limited(s) for s in sessions for _ in range(per_room)))
    print(f"connected {len(clients)} clients in {len(sessions)} rooms", flush=True)
    for _ in range(rounds):
        for client, session_id in clients:
            await client.emit("offer", {"session_id": session_id, "sdp": repr(time.perf_counter())})
            await asyncio.sleep(0.002)  # ~500 offers/s offered load
        await asyncio.sleep(1)
    for client, _ in clients:
        await client.disconnect()
    return latencies


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


def measure(url: str, pid: int, token: str, sessions: list[str], args: Any) -> dict[str, float]:
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    lat = asyncio.run(run_clients(url, token, sessions, args.clients // args.rooms, args.rounds))
    cpu1, t1 = cpu_seconds(pid), time.perf_counter()
    expected = args.clients * args.rounds * (args.clients // args.rooms - 1)
    print(f"  relayed {len(lat)} of {expected} expected deliveries")
    return {"p50": pct(lat, 50), "p99": pct(lat, 99), "cpu": 100 * (cpu1 - cpu0) / (t1 - t0)}


def reference(args: Any) -> dict[str, float]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.socketio_reference", str(port)])
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(f"{url}/socket.io/?EIO=4&transport=polling", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        rooms = [f"room{i}" for i in range(args.rooms)]
        return measure(url, proc.pid, "", rooms, args)
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="streamcore-sigbench-"))
    with postgres_database() as db_url:
        env = server_env(work, db_url, "bench-secret", STREAMCORE_LOG_LEVEL="WARNING")
        with live_server(work, env, "--no-worker") as srv:
            headers = srv.auth_headers
            with httpx.Client(base_url=srv.base_url, headers=headers, timeout=30) as c:
                project = c.post("/projects", json={"name": "bench"}).json()["id"]
                sessions = [
                    c.post("/sessions", json={"project_id": project}).json()["id"]
                    for _ in range(args.rooms)
                ]
            print("streamcore:", flush=True)
            ours = measure(srv.base_url, srv.process.pid, srv.token, sessions, args)
    print("reference (bare python-socketio):", flush=True)
    ref = reference(args)
    for name, r in (("streamcore", ours), ("reference", ref)):
        print(
            f"{name:>10}: relay p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, "
            f"server CPU {r['cpu']:.0f}% of one core"
        )
    print(
        f"ratios streamcore/reference: p50 {ours['p50'] / ref['p50']:.2f}, "
        f"p99 {ours['p99'] / ref['p99']:.2f}, CPU {ours['cpu'] / ref['cpu']:.2f}"
    )


if __name__ == "__main__":
    main()
