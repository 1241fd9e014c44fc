"""Pure planning of the storyboard: one sprite of tiles and its WebVTT thumbnails track."""

from __future__ import annotations

import math
from dataclasses import dataclass

from streamcore.media.probe import MediaInfo
from streamcore.media.webvtt import vtt_timestamp

STORYBOARD_IMAGE = "storyboard.jpg"
STORYBOARD_VTT = "storyboard.vtt"
STORYBOARD_TILE_WIDTH = 160
STORYBOARD_COLUMNS = 10
STORYBOARD_MAX_TILES = 100


@dataclass(frozen=True)
class StoryboardPlan:
    interval: float
    tiles: int
    columns: int
    rows: int
    tile_width: int
    tile_height: int


def plan_storyboard(info: MediaInfo) -> StoryboardPlan:
    assert info.width is not None
    assert info.height is not None
    interval = max(1.0, math.ceil(info.duration / STORYBOARD_MAX_TILES))
    tiles = max(1, min(STORYBOARD_MAX_TILES, math.ceil(info.duration / interval)))
    columns = min(STORYBOARD_COLUMNS, tiles)
    rows = math.ceil(tiles / columns)
    tile_h = max(2, round(STORYBOARD_TILE_WIDTH * info.height / info.width / 2) * 2)
    return StoryboardPlan(interval, tiles, columns, rows, STORYBOARD_TILE_WIDTH, tile_h)


def storyboard_vtt(plan: StoryboardPlan, duration: float) -> str:
    """The WebVTT thumbnails track: one cue per tile, `sprite.jpg#xywh=x,y,w,h`."""
    lines = ["WEBVTT", ""]
    for i in range(plan.tiles):
        start = i * plan.interval
        if start >= duration:
            break
        end = min(duration, start + plan.interval)
        x = (i % plan.columns) * plan.tile_width
        y = (i // plan.columns) * plan.tile_height
        lines += [
            f"{vtt_timestamp(start)} --> {vtt_timestamp(end)}",
            f"{STORYBOARD_IMAGE}#xywh={x},{y},{plan.tile_width},{plan.tile_height}",
            "",
        ]
    return "\n".join(lines)
