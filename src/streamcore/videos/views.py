"""The public view of an asset (VideoRead), shared by the API and the domain events."""

from __future__ import annotations

from html import escape
from typing import Any

from streamcore.models import Asset
from streamcore.transcripts.schemas import TranscriptRead
from streamcore.videos.schemas import DerivativesRead, ErrorInfo, ProbeInfo, VideoRead


def to_read(
    asset: Asset,
    playback_url: str | None,
    urls: dict[str, Any] | None = None,
    transcript: TranscriptRead | None = None,
    *,
    embed_url: str | None = None,
) -> VideoRead:
    return VideoRead(
        id=asset.id,
        project_id=asset.project_id,
        session_id=asset.session_id,
        title=asset.title,
        description=asset.description,
        external_id=asset.external_id,
        passthrough=asset.passthrough,
        metadata=asset.user_metadata or {},
        source=asset.source,
        status=asset.status,
        progress=round(asset.progress * 100, 1),
        eta_seconds=asset.eta_seconds,
        filename=asset.filename,
        size_bytes=asset.size_bytes,
        probe=ProbeInfo(
            duration=asset.duration_seconds,
            width=asset.width,
            height=asset.height,
            video_codec=asset.video_codec,
            audio_codec=asset.audio_codec,
            bitrate=asset.bitrate,
            frame_rate=asset.frame_rate,
            container=asset.container,
        ),
        renditions=VideoRead.rendition_list(asset.renditions or []),
        playable=asset.playback_key is not None,
        playback_url=playback_url,
        embed_url=embed_url,
        embed_html=embed_snippet(embed_url, asset) if embed_url else None,
        derivatives=DerivativesRead.model_validate(urls or {}),
        error=(
            ErrorInfo(error_class=asset.error_class, message=asset.error_message or "")
            if asset.error_class
            else None
        ),
        transcript=transcript or TranscriptRead.from_asset(asset),
        created_at=asset.created_at,
        updated_at=asset.updated_at,
        deleted_at=asset.deleted_at,
    )


def embed_snippet(url: str, asset: Asset) -> str:
    """An iframe of the player that keeps the video's aspect ratio at any width."""
    ratio = 100 * asset.height / asset.width if asset.width and asset.height else 56.25
    title = escape(asset.title or asset.filename or "Video")
    return (
        f'<div style="position:relative;width:100%;padding-top:{ratio:.4g}%">'
        f'<iframe src="{escape(url)}" title="{title}" loading="lazy" '
        'style="position:absolute;inset:0;width:100%;height:100%;border:0" '
        'allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe></div>'
    )
