"""The one storage layout of an asset. Every object of a video lives under its prefix,
so deleting the prefix deletes the video:

    assets/{id}/source                      the original upload (or joined recording)
    assets/{id}/chunks/{index:06d}          recording chunks until the take completes
    assets/{id}/hls/master.m3u8             the master playlist
    assets/{id}/hls/{rung}/index.m3u8       a variant playlist and its segments
    assets/{id}/derivatives/...             loudness-normalised mp3 and mp4
    assets/{id}/thumbnails/...              posters, storyboard sprite and its WebVTT
    assets/{id}/transcript/...              transcript JSON, text and WebVTT
    assets/{id}/work/...                    a chunked run's files between its jobs

Stream tokens name paths relative to the asset folder (`hls/master.m3u8`).
"""

from __future__ import annotations

HLS = "hls"
DERIVATIVES = "derivatives"
THUMBNAILS = "thumbnails"
TRANSCRIPT = "transcript"
CHUNKS = "chunks"
WORK = "work"
# Folders a transcode writes: a new run replaces them, a cancel removes them.
TRANSCODE_OUTPUTS = (HLS, DERIVATIVES, THUMBNAILS, WORK)
# Paths relative to the asset folder.
MASTER_PATH = f"{HLS}/master.m3u8"


def asset_prefix(asset_id: str) -> str:
    return f"assets/{asset_id}"


def key(asset_id: str, path: str) -> str:
    """The storage key of a path relative to the asset folder."""
    return f"{asset_prefix(asset_id)}/{path}"


def source_key(asset_id: str) -> str:
    return key(asset_id, "source")


def hls_prefix(asset_id: str) -> str:
    return key(asset_id, HLS)


def master_key(asset_id: str) -> str:
    return key(asset_id, MASTER_PATH)


def chunks_prefix(asset_id: str) -> str:
    return key(asset_id, CHUNKS)


def chunk_key(asset_id: str, index: int) -> str:
    return f"{chunks_prefix(asset_id)}/{index:06d}"


def transcript_prefix(asset_id: str) -> str:
    return key(asset_id, TRANSCRIPT)


def transcode_outputs(asset_id: str) -> list[str]:
    """Prefixes of everything a transcode wrote."""
    return [key(asset_id, folder) for folder in TRANSCODE_OUTPUTS]
