"""Whether an asset's files may still be streamed: not once its deletion began, even
for tokens issued before and not yet expired.

The answer comes from the database and is kept for a few seconds; the lifecycle's
`video.deleting` / `video.deleted` events (realtime, after commit, on every node) mark
the asset gone at once, so playback stops the moment the delete commits and a lost
event costs at most `ttl` seconds."""

from __future__ import annotations

import time
from typing import Any

from streamcore.infra import Infra
from streamcore.videos import service as videos

GONE_STATUSES = frozenset({"deleting", "deleted"})


class Servable:
    def __init__(self, infra: Infra, ttl: float = 5.0, max_entries: int = 100_000) -> None:
        self.infra = infra
        self.ttl = ttl
        self.max_entries = max_entries
        self.gone: set[str] = set()
        self._checked: dict[str, float] = {}

    async def check(self, asset_id: str) -> bool:
        if asset_id in self.gone:
            return False
        now = time.monotonic()
        seen = self._checked.get(asset_id)
        if seen is not None and now - seen < self.ttl:
            return True
        async with self.infra.transaction() as session:
            ok = await videos.is_servable(session, asset_id)
        if not ok:
            self._mark_gone(asset_id)
            return False
        if len(self._checked) >= self.max_entries:
            self._checked.clear()
        self._checked[asset_id] = now
        return True

    def _mark_gone(self, asset_id: str) -> None:
        self._checked.pop(asset_id, None)
        if len(self.gone) >= self.max_entries:
            self.gone.clear()  # the database still answers for what is forgotten
        self.gone.add(asset_id)

    async def on_event(self, channel: str, event: dict[str, Any]) -> None:
        """Realtime listener: a video whose deletion began is gone at once."""
        if channel.startswith("asset:") and event.get("status") in GONE_STATUSES:
            self._mark_gone(channel.removeprefix("asset:"))
