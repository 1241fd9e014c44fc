"""Keyset pages on both databases, with videos created in the same instant."""

from __future__ import annotations

import pytest

from streamcore.db.base import utcnow
from streamcore.errors import BadRequest
from streamcore.infra import Infra
from streamcore.models import AssetSource
from streamcore.projects import service as projects
from streamcore.videos import library
from streamcore.videos import service as videos


async def test_pages_split_ties_on_id_and_never_repeat(infra: Infra) -> None:
    same = utcnow()
    async with infra.transaction() as s:
        project = await projects.create_project(s, "ties")
        made = []
        for _ in range(7):
            asset = await videos.create_asset(s, project_id=project.id, source=AssetSource.url)
            asset.created_at = same  # setup: several videos in one instant
            made.append(asset.id)
    query = library.VideoQuery(project_ids=[project.id])
    seen: list[str] = []
    cursor = None
    async with infra.transaction() as s:
        while True:
            page = await library.list_videos(s, query, cursor=cursor, limit=3)
            seen += [a.id for a in page.assets]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        with pytest.raises(BadRequest):
            await library.list_videos(s, query, cursor="eyJ4IjoxfQ", limit=3)
    assert seen == sorted(made, reverse=True)
