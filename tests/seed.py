"""Test setup in process: assets in a given state and runners of test handlers.

`seed_asset` fabricates a state directly (setup, not the behaviour under test); the
product moves assets only through `videos.lifecycle`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.models import Asset, AssetSource, AssetStatus, JobKind
from streamcore.processing.specs import Handler, JobSpec
from streamcore.videos import service as videos
from streamcore.worker import job_registry


async def seed_asset(
    session: AsyncSession,
    *,
    project_id: str,
    status: AssetStatus = AssetStatus.uploaded,
    source: AssetSource = AssetSource.upload,
    **fields: Any,
) -> Asset:
    asset = await videos.create_asset(session, project_id=project_id, source=source)
    asset.status = status
    for name, value in fields.items():
        setattr(asset, name, value)
    await session.flush()
    return asset


def specs(handlers: Mapping[JobKind, Handler]) -> dict[JobKind, JobSpec]:
    """The real specs of these kinds, running test handlers."""
    real = job_registry()
    return {kind: dataclasses.replace(real[kind], run=run) for kind, run in handlers.items()}
