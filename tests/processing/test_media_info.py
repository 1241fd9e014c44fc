from __future__ import annotations

from streamcore.media.probe import MediaInfo
from streamcore.models import Asset
from streamcore.processing.media_info import media_info_of


def test_media_info_of_an_asset_row() -> None:
    asset = Asset(
        container="mov,mp4,m4a,3gp,3g2,mj2",
        duration_seconds=10.0,
        bitrate=800_000,
        width=1280,
        height=720,
        frame_rate=29.97,
        video_codec="h264",
        audio_codec=None,
    )
    assert media_info_of(asset) == MediaInfo(
        "mov,mp4,m4a,3gp,3g2,mj2", 10.0, 800_000, 1280, 720, 29.97, "h264", None
    )
    assert media_info_of(Asset()).format_name == ""
