"""Watch-while-encoding: publish HLS output to storage while FFmpeg writes it.

FFmpeg runs with `-hls_flags temp_file`, so a segment or playlist appears under its
name only once complete. Each sync uploads new segments first, then the variant
playlists that changed (so a published playlist never names a missing segment), then
the master once every variant has a segment: from that moment the asset plays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import anyio.to_thread

from streamcore.adapters.storage.base import ObjectStorage
from streamcore.media.ffmpeg_args import MASTER_PLAYLIST, VARIANT_PLAYLIST
from streamcore.media.hls import finalize_playlist, playlist_segments


@dataclass
class HlsPublisher:
    storage: ObjectStorage
    out_dir: Path
    prefix: str
    variants: list[str]
    published_segments: set[str] = field(default_factory=set)
    published_playlists: dict[str, str] = field(default_factory=dict)
    master_published: bool = False
    bytes_written: int = 0
    # The asset already plays (a retry or replay over the same renditions): segments
    # are replaced in place as they come, its playlists only once the run is complete,
    # so what players hold never shrinks or names a segment that is not there.
    republish: bool = False

    def _scan(self) -> tuple[dict[str, list[Path]], dict[str, str], str | None, int]:
        segments: dict[str, list[Path]] = {}
        playlists: dict[str, str] = {}
        total = 0
        for name in self.variants:
            vdir = self.out_dir / name
            if not vdir.is_dir():
                continue
            files = sorted(vdir.iterdir())
            segments[name] = [p for p in files if p.suffix == ".ts"]
            total += sum(p.stat().st_size for p in files if p.is_file())
            playlist = vdir / VARIANT_PLAYLIST
            if playlist.is_file():
                playlists[name] = playlist.read_text()
        master_path = self.out_dir / MASTER_PLAYLIST
        master = master_path.read_text() if master_path.is_file() else None
        return segments, playlists, master, total

    @property
    def every_variant_started(self) -> bool:
        """Every variant has at least one segment in storage."""
        started = {rel.split("/", 1)[0] for rel in self.published_segments}
        return all(name in started for name in self.variants)

    async def sync(self, *, final: bool = False) -> bool:
        """Publish what is new; True when this call published the master playlist."""
        segments, playlists, master, total = await anyio.to_thread.run_sync(self._scan)
        self.bytes_written = total
        for name, paths in segments.items():
            for path in paths:
                rel = f"{name}/{path.name}"
                if rel not in self.published_segments:
                    await self.storage.put_file(f"{self.prefix}/{rel}", path)
                    self.published_segments.add(rel)
        if self.republish and not final:
            return False
        for name, text in playlists.items():
            if final:
                text = finalize_playlist(text)
            named = {f"{name}/{s}" for s in playlist_segments(text)}
            if not named <= self.published_segments:
                continue  # a segment it names is not on disk yet: next round
            if self.published_playlists.get(name) != text:
                await self.storage.put_bytes(
                    f"{self.prefix}/{name}/{VARIANT_PLAYLIST}", text.encode()
                )
                self.published_playlists[name] = text
        ready = all(playlist_segments(self.published_playlists.get(n, "")) for n in self.variants)
        if master is not None and ready and not self.master_published:
            await self.storage.put_bytes(f"{self.prefix}/{MASTER_PLAYLIST}", master.encode())
            self.master_published = True
            return True
        return False
