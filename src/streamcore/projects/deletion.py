"""DELETE /projects/{id}: the project disappears for every caller at once (its keys are
revoked, its sessions ended), every video goes the way of DELETE /videos/{id}, and the
rows (sessions, keys, tombstones, the project) are removed once the last purge ends:
by that purge, or by the worker's sweep should the purging worker die first."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.auth import service as auth
from streamcore.db.base import utcnow
from streamcore.infra import Infra
from streamcore.models import Project
from streamcore.projects.repository import ProjectRepository
from streamcore.sessions import service as sessions
from streamcore.videos import deletion
from streamcore.videos import service as videos

log = structlog.get_logger(__name__)

SWEEP_BATCH = 50


async def delete_project(session: AsyncSession, project: Project) -> int:
    """Mark the project deleted and start deleting its videos; returns how many."""
    project.deleted_at = utcnow()
    await auth.revoke_project_keys(session, project.id)
    await sessions.end_all(session, project.id)
    video_ids = await videos.live_ids_of_project(session, project.id)
    for video_id in video_ids:
        await deletion.delete_video(session, video_id)
    await session.flush()
    await remove_if_purged(session, project.id)
    log.info("project.deleting", project_id=project.id, videos=len(video_ids))
    return len(video_ids)


async def remove_if_purged(session: AsyncSession, project_id: str) -> bool:
    """Remove a deleted project whose videos are all purged; True when it went."""
    repo = ProjectRepository(session)
    project = await repo.get(project_id, deleted=True, for_update=True)
    if project is None or project.deleted_at is None:
        return False
    if await videos.count_undeleted(session, project_id):
        return False
    await repo.remove(project)
    log.info("project.removed", project_id=project_id)
    return True


async def sweep_deleted(infra: Infra) -> int:
    """One pass over deleted projects; returns how many were removed."""
    removed = 0
    async with infra.transaction() as session:
        ids = [p.id for p in await ProjectRepository(session).deleted(SWEEP_BATCH)]
    for project_id in ids:
        async with infra.transaction() as session:
            removed += await remove_if_purged(session, project_id)
    return removed
