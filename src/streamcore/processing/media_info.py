"""The probe results an ingest stored on the asset, as the pure layer's MediaInfo."""

from __future__ import annotations

from streamcore.media.probe import MediaInfo
from streamcore.models import Asset


def media_info_of(asset: Asset) -> MediaInfo:
    """The MediaInfo the ingest stored on the asset (later jobs do not probe again)."""
    return MediaInfo.from_probe_fields(
        container=asset.container,
        duration=asset.duration_seconds,
        bitrate=asset.bitrate,
        width=asset.width,
        height=asset.height,
        frame_rate=asset.frame_rate,
        video_codec=asset.video_codec,
        audio_codec=asset.audio_codec,
        variable_frame_rate=asset.variable_frame_rate,
    )
