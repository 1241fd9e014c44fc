"""A buffer written in the background: what requests append is flushed every
flush_seconds, sooner when woken, and once more on stop. The beacon buffer and the
stream's view log are both one."""

from __future__ import annotations

import asyncio
import contextlib


class PeriodicFlusher:
    task_name = "flush"

    def __init__(self, flush_seconds: float) -> None:
        self.flush_seconds = flush_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # One flush at a time: a flush() called while the flusher writes returns only
        # once that write is done (stop(), tests).
        self._flushing = asyncio.Lock()

    async def _flush(self) -> None:
        """Write what is buffered (subclasses)."""
        raise NotImplementedError

    def wake(self) -> None:
        """Flush now rather than at the next interval (the buffer filled up)."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.task_name)

    async def stop(self) -> None:
        """Stop the flusher and write what is buffered."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def flush(self) -> None:
        async with self._flushing:
            await self._flush()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_seconds)
            self._wake.clear()
            await self.flush()
