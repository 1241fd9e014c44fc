"""Parsed playlists in memory: bounded (least recently used goes first), keyed by asset
and path, dropped when the asset changes state (a lifecycle event on `asset:{id}`,
from this process or, with Redis, any node) and after a maximum age in any case.

A playlist still being written (no `#EXT-X-ENDLIST`: an EVENT playlist while the video
transcodes) is never kept, so players following it see every new segment."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class PlaylistCache(Generic[T]):
    def __init__(self, entries: int, max_age: float) -> None:
        self.entries = entries
        self.max_age = max_age
        self._items: OrderedDict[tuple[str, str], tuple[float, T]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    async def get(
        self,
        asset_id: str,
        path: str,
        load: Callable[[], Awaitable[T]],
        *,
        keep: Callable[[T], bool],
    ) -> T:
        """The parsed playlist of (asset, path): from memory, or load()ed and kept if keep()
        says it is final (a finished VOD playlist, or a file that does not grow)."""
        key = (asset_id, path)
        found = self._items.get(key)
        now = time.monotonic()
        if found is not None and now - found[0] <= self.max_age:
            self._items.move_to_end(key)
            self.hits += 1
            return found[1]
        self.misses += 1
        template = await load()
        if self.entries and keep(template):
            self._items[key] = (now, template)
            self._items.move_to_end(key)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)
        return template

    def drop_asset(self, asset_id: str) -> None:
        for key in [k for k in self._items if k[0] == asset_id]:
            del self._items[key]

    async def on_event(self, channel: str, event: dict[str, Any]) -> None:
        """Realtime listener: any state change of an asset drops its playlists
        (progress ticks do not)."""
        if channel.startswith("asset:") and event.get("type") != "progress":
            self.drop_asset(channel.removeprefix("asset:"))
