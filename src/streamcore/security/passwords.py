"""argon2id password hashing, off the event loop.

Hashing costs tens of milliseconds of CPU and ~19 MiB by design, so it runs in worker
threads, a bounded number at once (a login flood queues instead of exhausting memory).
"""

from __future__ import annotations

import os
import secrets

import anyio
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    def __init__(self, *, memory_kib: int, time_cost: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        self._limiter: anyio.CapacityLimiter | None = None
        self._dummy_hash: str | None = None

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        # Made on first use: a CapacityLimiter belongs to the running event loop.
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(max(2, os.cpu_count() or 2))
        return self._limiter

    def hash_sync(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify_sync(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self.hash_sync, password, limiter=self.limiter)

    async def verify(self, password_hash: str, password: str) -> bool:
        """True when password matches; False for a mismatch or an unusable hash."""
        if not password_hash:
            return False
        return await anyio.to_thread.run_sync(
            self.verify_sync, password_hash, password, limiter=self.limiter
        )

    async def verify_nobody(self, password: str) -> None:
        """Spend a verification's time for an unknown account, so response time does not
        tell which emails have one."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
        await self.verify(self._dummy_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        """The hash was made with other (older) parameters."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
