"""The embedded bus: jobs live in the jobs table; a commit that wrote jobs only wakes the
in-process worker (which would otherwise find them on its next poll)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from streamcore.adapters.bus.base import Broker


class DatabaseBus:
    name = "db"
    broker: Broker | None = None

    def __init__(self) -> None:
        self._wake = asyncio.Event()

    async def notify(self, job_ids: Sequence[str]) -> None:
        """Jobs were committed: wake the worker."""
        if job_ids:
            self._wake.set()

    async def wait(self, timeout: float) -> None:
        """Return when a job was published or after timeout seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()

    async def check(self) -> None:
        return None

    async def close(self) -> None:
        return None
