"""Socket.IO signaling for recording sessions, and live job progress.

Browsers in a session room exchange WebRTC `offer`, `answer` and `ice-candidate`
messages through here; messages go to a named peer (`to`) or to the rest of the room,
never back to the sender. With Redis configured, python-socketio's Redis manager carries
messages between API nodes and the presence store lists peers of every node.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import socketio
import structlog
from pydantic import BaseModel, ValidationError

from streamcore.auth.dependencies import Action, Principal, authorize, verify_credentials
from streamcore.config import Settings
from streamcore.errors import AppError, BadRequest, Conflict, Forbidden, PayloadTooLarge
from streamcore.infra import Infra
from streamcore.projects import service as projects
from streamcore.sessions import service as sessions
from streamcore.signaling.schemas import (
    Description,
    IceCandidate,
    JoinSession,
    LeaveSession,
    Subscribe,
)
from streamcore.videos import service as videos

log = structlog.get_logger(__name__)

M = TypeVar("M", bound=BaseModel)
Handler = Callable[[str, Any], Awaitable[dict[str, Any]]]


def room_of(session_id: str) -> str:
    return f"session:{session_id}"


class Signaling:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings.signaling
        manager = (
            socketio.AsyncRedisManager(
                settings.redis.url, channel=f"{settings.redis.prefix}:socketio"
            )
            if settings.redis.url
            else None
        )
        self.sio = socketio.AsyncServer(
            async_mode="asgi",
            client_manager=manager,
            cors_allowed_origins=self.settings.cors_allowed_origins,
            logger=False,
            engineio_logger=False,
        )
        self._infra: Infra | None = None
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        for name, handler in (
            ("join-session", self._join),
            ("leave-session", self._leave),
            ("offer", self._relay_description("offer")),
            ("answer", self._relay_description("answer")),
            ("ice-candidate", self._relay_candidate),
            ("subscribe", self._subscribe),
            ("unsubscribe", self._unsubscribe),
        ):
            self.sio.on(name, self._guard(name, handler))

    @property
    def infra(self) -> Infra:
        if self._infra is None:
            raise RuntimeError("signaling used before the app started")
        return self._infra

    async def start(self, infra: Infra) -> None:
        self._infra = infra
        await infra.realtime.add_listener(self._forward_job_event)

    async def _forward_job_event(self, channel: str, event: dict[str, Any]) -> None:
        """Job progress and status to sockets in the asset's or project's room on this
        node (every node receives every event, so emit locally only)."""
        if channel.startswith(("asset:", "project:")):
            await self.sio.emit(f"asset-{event['type']}", event, room=channel, ignore_queue=True)

    # -- plumbing ---------------------------------------------------------------------
    def _guard(self, name: str, handler: Handler) -> Callable[[str, Any], Awaitable[Any]]:
        """Every failure becomes a `signaling-error` event and an error ack; never a crash."""

        @functools.wraps(handler)
        async def wrapped(sid: str, data: Any = None) -> dict[str, Any]:
            try:
                return await handler(sid, data)
            except AppError as exc:
                err = {"event": name, "error": exc.name, "detail": exc.detail}
            except ValidationError as exc:
                detail = "; ".join(
                    f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
                )
                err = {"event": name, "error": "ValidationError", "detail": detail[:500]}
            except Exception:
                log.exception("signaling.handler_failed", event_name=name)
                err = {"event": name, "error": "InternalError", "detail": "internal error"}
            await self.sio.emit("signaling-error", err, to=sid)
            return {"ok": False, **err}

        return wrapped

    @staticmethod
    def _parse(model: type[M], data: Any) -> M:
        if not isinstance(data, dict):
            raise BadRequest("payload must be an object")
        return model.model_validate(data)

    async def _principal(self, sid: str) -> Principal:
        state = await self.sio.get_session(sid)
        principal: Principal = state["principal"]
        return principal

    # -- connection -------------------------------------------------------------------
    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        auth = auth if isinstance(auth, dict) else {}
        token = auth.get("token")
        authorization = (
            f"Bearer {token}" if isinstance(token, str) else environ.get("HTTP_AUTHORIZATION")
        )
        api_key = auth.get("api_key") if isinstance(auth.get("api_key"), str) else None
        try:
            principal = await verify_credentials(
                self.infra,
                authorization=authorization,
                api_key=api_key or environ.get("HTTP_X_API_KEY"),
            )
        except AppError as exc:
            # The client sees `message` = the error class and `data` = our error body.
            raise socketio.exceptions.ConnectionRefusedError(
                exc.name, {"error": exc.name, "detail": exc.detail}
            ) from exc
        await self.sio.save_session(sid, {"principal": principal, "sessions": set()})

    async def _disconnect(self, sid: str, reason: Any = None) -> None:
        state = await self.sio.get_session(sid)
        for session_id in list(state.get("sessions", ())):
            await self._part(sid, session_id)

    # -- rooms ------------------------------------------------------------------------
    async def _join(self, sid: str, data: Any) -> dict[str, Any]:
        req = self._parse(JoinSession, data)
        principal = await self._principal(sid)
        async with self.infra.transaction() as db:
            rec = await sessions.get_session(db, req.session_id)
            await authorize(
                db, principal, rec.project_id, Action.upload, not_found="session not found"
            )
            sessions.require_open(rec)
        room = room_of(req.session_id)
        peers = await self.infra.presence.peers(room)
        peers.pop(sid, None)
        if len(peers) >= self.settings.max_peers_per_session:
            raise Conflict("the session is full")
        me = {"peer_id": sid, "name": req.name, "principal": principal.label}
        await self.infra.presence.add(room, sid, me)
        await self.sio.enter_room(sid, room)
        async with self.sio.session(sid) as state:
            state["sessions"].add(req.session_id)
        await self.sio.emit(
            "peer-joined", {"session_id": req.session_id, **me}, room=room, skip_sid=sid
        )
        return {
            "ok": True,
            "session_id": req.session_id,
            "peer_id": sid,
            "peers": list(peers.values()),
        }

    async def _leave(self, sid: str, data: Any) -> dict[str, Any]:
        req = self._parse(LeaveSession, data)
        # Only a peer of the session may leave it: nobody else makes its room see peer-left.
        await self._require_member(sid, req.session_id)
        await self._part(sid, req.session_id)
        return {"ok": True}

    async def _part(self, sid: str, session_id: str) -> None:
        room = room_of(session_id)
        await self.infra.presence.remove(room, sid)
        await self.sio.leave_room(sid, room)
        try:
            async with self.sio.session(sid) as state:
                state["sessions"].discard(session_id)
        except KeyError:
            pass  # the socket is already gone
        await self.sio.emit("peer-left", {"session_id": session_id, "peer_id": sid}, room=room)

    async def _require_member(self, sid: str, session_id: str) -> None:
        state = await self.sio.get_session(sid)
        if session_id not in state.get("sessions", ()):
            raise Forbidden("join the session first")

    async def _send(
        self, sid: str, event: str, session_id: str, to: str | None, body: dict[str, Any]
    ) -> dict[str, Any]:
        await self._require_member(sid, session_id)
        payload = {"session_id": session_id, "from": sid, **body}
        room = room_of(session_id)
        if to is not None:
            if to == sid or to not in await self.infra.presence.peers(room):
                raise BadRequest("no such peer in this session")
            await self.sio.emit(event, payload, to=to)
        else:
            await self.sio.emit(event, payload, room=room, skip_sid=sid)
        return {"ok": True}

    def _relay_description(self, event: str) -> Handler:
        async def relay(sid: str, data: Any) -> dict[str, Any]:
            msg = self._parse(Description, data)
            if len(msg.sdp.encode()) > self.settings.max_sdp_bytes:
                raise PayloadTooLarge(f"SDP larger than {self.settings.max_sdp_bytes} bytes")
            body = {"sdp": msg.sdp, "type": msg.type or event}
            return await self._send(sid, event, msg.session_id, msg.to, body)

        return relay

    async def _relay_candidate(self, sid: str, data: Any) -> dict[str, Any]:
        msg = self._parse(IceCandidate, data)
        if len(json.dumps(msg.candidate).encode()) > self.settings.max_candidate_bytes:
            raise PayloadTooLarge(
                f"candidate larger than {self.settings.max_candidate_bytes} bytes"
            )
        return await self._send(
            sid, "ice-candidate", msg.session_id, msg.to, {"candidate": msg.candidate}
        )

    # -- job progress -----------------------------------------------------------------
    async def _subscribe_room(self, sid: str, data: Any) -> str:
        req = self._parse(Subscribe, data)
        if (req.asset_id is None) == (req.project_id is None):
            raise BadRequest("give exactly one of asset_id and project_id")
        principal = await self._principal(sid)
        async with self.infra.transaction() as db:
            if req.asset_id is not None:
                asset = await videos.get_asset(db, req.asset_id)
                await authorize(
                    db, principal, asset.project_id, Action.read, not_found="video not found"
                )
                return f"asset:{asset.id}"
            assert req.project_id is not None
            project = await projects.get_project(db, req.project_id)
            await authorize(db, principal, project.id, Action.read)
            return f"project:{project.id}"

    async def _subscribe(self, sid: str, data: Any) -> dict[str, Any]:
        room = await self._subscribe_room(sid, data)
        await self.sio.enter_room(sid, room)
        return {"ok": True, "room": room}

    async def _unsubscribe(self, sid: str, data: Any) -> dict[str, Any]:
        room = await self._subscribe_room(sid, data)
        await self.sio.leave_room(sid, room)
        return {"ok": True, "room": room}
