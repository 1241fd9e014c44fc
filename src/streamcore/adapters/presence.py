"""Who is in which signaling room, across API nodes.

Socket.IO's Redis manager carries messages between nodes but each node only knows its
own room members; the peer list a joiner receives must cover all nodes, so it lives
here: in memory for one process, in Redis hashes (one per room) for several.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import redis.asyncio as aioredis

ROOM_TTL_SECONDS = 24 * 3600


class Presence(Protocol):
    async def add(self, room: str, peer_id: str, info: dict[str, Any]) -> None: ...

    async def remove(self, room: str, peer_id: str) -> None: ...

    async def peers(self, room: str) -> dict[str, dict[str, Any]]: ...

    async def close(self) -> None: ...


class MemoryPresence:
    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, dict[str, Any]]] = {}

    async def add(self, room: str, peer_id: str, info: dict[str, Any]) -> None:
        self._rooms.setdefault(room, {})[peer_id] = info

    async def remove(self, room: str, peer_id: str) -> None:
        members = self._rooms.get(room)
        if members is not None:
            members.pop(peer_id, None)
            if not members:
                del self._rooms[room]

    async def peers(self, room: str) -> dict[str, dict[str, Any]]:
        return dict(self._rooms.get(room, {}))

    async def close(self) -> None:
        return None


class RedisPresence:
    def __init__(self, url: str, prefix: str = "streamcore") -> None:
        self._redis = aioredis.from_url(url)
        self._prefix = f"{prefix}:presence:"

    async def add(self, room: str, peer_id: str, info: dict[str, Any]) -> None:
        key = self._prefix + room
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, peer_id, json.dumps(info))
            pipe.expire(key, ROOM_TTL_SECONDS)
            await pipe.execute()

    async def remove(self, room: str, peer_id: str) -> None:
        await self._redis.hdel(self._prefix + room, peer_id)

    async def peers(self, room: str) -> dict[str, dict[str, Any]]:
        raw = await self._redis.hgetall(self._prefix + room)
        return {(k.decode() if isinstance(k, bytes) else k): json.loads(v) for k, v in raw.items()}

    async def close(self) -> None:
        await self._redis.aclose()
