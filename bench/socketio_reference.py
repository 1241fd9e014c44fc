"""The reference for the signaling benchmark: bare python-socketio on uvicorn that joins
rooms and re-emits offers to the room (no auth, validation or presence).

    python -m bench.socketio_reference PORT
"""

from __future__ import annotations

import sys
from typing import Any

import socketio
import uvicorn

sio = socketio.AsyncServer(async_mode="asgi", logger=False, engineio_logger=False)


@sio.on("join-session")  # type: ignore[untyped-decorator]
async def join(sid: str, data: dict[str, Any]) -> dict[str, Any]:
    await sio.enter_room(sid, data["session_id"])
    return {"ok": True}


@sio.on("offer")  # type: ignore[untyped-decorator]
async def offer(sid: str, data: dict[str, Any]) -> None:
    await sio.emit("offer", data, room=data["session_id"], skip_sid=sid)


if __name__ == "__main__":
    uvicorn.run(socketio.ASGIApp(sio), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
