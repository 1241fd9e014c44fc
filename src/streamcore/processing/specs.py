"""What the job runner knows of a kind of job: a spec each domain registers beside its
handler, and the worker assembles into a registry. The runner itself knows no domain:
how a final failure, a stop or progress show on what the job works on is the spec's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.models import Job, JobKind

if TYPE_CHECKING:
    from streamcore.processing.runner import JobContext

Handler = Callable[["JobContext"], Awaitable[None]]
# The job failed for good (permanent error, or out of tries): record it where it shows.
FailureHook = Callable[[AsyncSession, Job, str, str], Awaitable[None]]
# The job was stopped: mark what it worked on; True when its outputs are to be removed.
CancelHook = Callable[[AsyncSession, Job], Awaitable[bool]]
# The job will be tried again (a transient error, or its worker died).
RetryHook = Callable[[AsyncSession, Job, str, str], Awaitable[None]]
# Progress of a running job (fraction 0..1, ETA in seconds), in the job's transaction.
ProgressHook = Callable[[AsyncSession, str, float, float | None], Awaitable[None]]


def _no_outputs(_asset_id: str) -> Sequence[str]:
    return ()


@dataclass(frozen=True)
class JobSpec:
    kind: JobKind
    run: Handler
    on_failure: FailureHook
    on_cancel: CancelHook
    # Storage prefixes of the partial outputs a stopped run leaves.
    outputs: Callable[[str], Sequence[str]] = _no_outputs
    # Whose progress the job reports (None: the job row only).
    on_progress: ProgressHook | None = None
    # What shows that the job waits for another attempt (None: the job row only).
    on_retry: RetryHook | None = None


JobRegistry = Mapping[JobKind, JobSpec]


def registry(*groups: Iterable[JobSpec]) -> dict[JobKind, JobSpec]:
    """One registry from the specs of several domains; a kind registered twice is a bug."""
    out: dict[JobKind, JobSpec] = {}
    for group in groups:
        for spec in group:
            if spec.kind in out:
                raise ValueError(f"job kind {spec.kind} registered twice")
            out[spec.kind] = spec
    return out
