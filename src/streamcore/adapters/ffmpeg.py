"""The only place that starts FFmpeg/ffprobe processes.

Never a shell; each process gets its own process group so a kill reaches every child;
SIGTERM then SIGKILL; always wait(). On Linux each child also asks the kernel for
SIGKILL when its parent dies (PR_SET_PDEATHSIG), so a worker that is SIGKILLed or
OOM-killed takes its FFmpeg with it instead of leaving it running under init. Errors:

    MediaToolError
      ├── ProbeError(returncode, stderr_tail)     ffprobe failed or printed no JSON
      ├── FFmpegFailed(returncode, stderr_tail)   non-zero exit
      ├── FFmpegStalled                           no progress for stall_timeout seconds
      ├── FFmpegTimeout                           ran past the wall-clock limit
      └── FFmpegCancelled                         the caller's cancel event fired
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog

log = structlog.get_logger(__name__)

ProgressCallback = Callable[[dict[str, str]], Awaitable[None]]

STDERR_TAIL_LINES = 30


PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def die_with_parent() -> Callable[[], None]:
    """A preexec_fn: in the child, between fork and exec, ask for SIGKILL on the death
    of the parent, and exit if the parent already died before that took effect.

    The kernel sends the signal when the *thread* that forked exits: asyncio forks
    from the event loop's thread, which lives as long as the process."""
    parent = os.getpid()

    def arm() -> None:
        if _LIBC is not None:
            _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return arm


class MediaToolError(Exception):
    pass


class ProbeError(MediaToolError):
    def __init__(self, returncode: int | None, stderr_tail: str) -> None:
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        super().__init__(f"ffprobe exited {returncode}: {stderr_tail[-500:]}")


class FFmpegFailed(MediaToolError):
    def __init__(self, returncode: int | None, stderr_tail: str) -> None:
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        super().__init__(f"ffmpeg exited {returncode}: {stderr_tail[-500:]}")


class FFmpegStalled(MediaToolError):
    pass


class FFmpegTimeout(MediaToolError):
    pass


class FFmpegCancelled(MediaToolError):
    pass


async def _terminate(proc: asyncio.subprocess.Process, grace: float = 1.0) -> None:
    """SIGTERM the process group, SIGKILL it after grace seconds, and reap it."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    await proc.wait()


class FFmpegRunner:
    def __init__(self, ffmpeg: str = "ffmpeg", ffprobe: str = "ffprobe") -> None:
        self.ffmpeg = ffmpeg
        self.ffprobe = ffprobe

    async def probe(self, args: Sequence[str], *, timeout: float = 30.0) -> dict[str, Any]:
        """Run ffprobe with args (which must ask for JSON output) and parse it."""
        proc = await asyncio.create_subprocess_exec(
            self.ffprobe,
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError as exc:
            await _terminate(proc)
            raise ProbeError(None, "ffprobe timed out") from exc
        except BaseException:
            await _terminate(proc)
            raise
        tail = err.decode(errors="replace")[-4000:]
        if proc.returncode != 0:
            raise ProbeError(proc.returncode, tail)
        try:
            data = json.loads(out or b"{}")
        except json.JSONDecodeError as exc:
            raise ProbeError(proc.returncode, "ffprobe printed invalid JSON") from exc
        if not isinstance(data, dict):
            raise ProbeError(proc.returncode, "ffprobe printed no object")
        return data

    async def run(
        self,
        args: Sequence[str],
        *,
        on_progress: ProgressCallback | None = None,
        cancel: asyncio.Event | None = None,
        stall_timeout: float = 120.0,
        timeout: float | None = None,
        on_start: Callable[[int], None] | None = None,
    ) -> str:
        """Run ffmpeg with args; on_progress gets each `-progress` key=value block (the
        watchdog needs them, so `-progress pipe:1` is added when args lack it). Returns
        the tail of stderr."""
        if "-progress" not in args:
            args = ["-progress", "pipe:1", *args]
        proc = await asyncio.create_subprocess_exec(
            self.ffmpeg,
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
        if on_start is not None:
            on_start(proc.pid)
        assert proc.stdout is not None
        assert proc.stderr is not None
        stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        last_activity = time.monotonic()
        started = last_activity

        async def read_progress() -> None:
            nonlocal last_activity
            assert proc.stdout is not None
            block: dict[str, str] = {}
            async for raw in proc.stdout:
                last_activity = time.monotonic()
                line = raw.decode(errors="replace").strip()
                key, sep, value = line.partition("=")
                if not sep:
                    continue
                block[key] = value
                if key == "progress":
                    if on_progress is not None:
                        await on_progress(block)
                    block = {}

        async def read_stderr() -> None:
            assert proc.stderr is not None
            async for raw in proc.stderr:
                stderr_tail.append(raw.decode(errors="replace").rstrip())

        readers = [
            asyncio.create_task(read_progress()),
            asyncio.create_task(read_stderr()),
        ]
        waiter = asyncio.create_task(proc.wait())
        cancel_waiter = asyncio.create_task(cancel.wait()) if cancel is not None else None
        try:
            while True:
                pending = {waiter} | ({cancel_waiter} if cancel_waiter else set())
                done, _ = await asyncio.wait(
                    pending, timeout=1.0, return_when=asyncio.FIRST_COMPLETED
                )
                if waiter in done:
                    break
                if cancel_waiter is not None and cancel_waiter in done:
                    await _terminate(proc)
                    raise FFmpegCancelled("cancelled")
                now = time.monotonic()
                if now - last_activity > stall_timeout:
                    await _terminate(proc)
                    raise FFmpegStalled(f"no progress for {stall_timeout:.0f}s")
                if timeout is not None and now - started > timeout:
                    await _terminate(proc)
                    raise FFmpegTimeout(f"ran longer than {timeout:.0f}s")
            # Drain the pipes so the tail holds the last error lines.
            await asyncio.wait(readers, timeout=5)
        except BaseException:
            await _terminate(proc)
            raise
        finally:
            for task in [*readers, waiter, *([cancel_waiter] if cancel_waiter else [])]:
                if not task.done():
                    task.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
        if proc.returncode != 0:
            raise FFmpegFailed(proc.returncode, "\n".join(stderr_tail))
        return "\n".join(stderr_tail)
