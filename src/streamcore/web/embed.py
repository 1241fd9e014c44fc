"""`/embed/{token}`: the player page of one video. No account: the token (the playback
token of the master playlist, as in `playback_url`) is the credential, and the page's
own links (poster, storyboard, captions) are signed to expire with it.

A token that is tampered with or expired, or a video that is gone, gets a message page
with a 4xx status instead of a broken player."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from streamcore.adapters.transcribe.languages import language_name
from streamcore.deps import InfraDep, SessionDep
from streamcore.errors import Forbidden
from streamcore.infra import Infra
from streamcore.models import Asset, TranscriptStatus
from streamcore.security.stream_tokens import StreamClaim
from streamcore.stream import service as stream
from streamcore.transcripts import service as transcripts
from streamcore.videos import library
from streamcore.videos import service as videos
from streamcore.web import pages

router = APIRouter(include_in_schema=False)

# A page that any site may frame: the embed is meant for other origins.
FRAME_HEADERS = {
    "content-security-policy": "frame-ancestors *",
    "cache-control": "private, no-store",
    "referrer-policy": "strict-origin-when-cross-origin",
}
POSTER_WIDTH = 1280


@dataclass(frozen=True)
class Problem:
    status: int
    title: str
    detail: str


EXPIRED = Problem(
    403,
    "This link has expired",
    "The player link is invalid or has expired. Ask the site that shared it for a new one.",
)
GONE = Problem(410, "This video is no longer available", "It was deleted by its owner.")
MISSING = Problem(404, "Video not found", "There is no video behind this link.")
NOT_READY = Problem(
    409, "This video is not ready yet", "It is still being processed. Try again in a moment."
)


def master_claim(infra: Infra, token: str) -> StreamClaim | None:
    """The claim of a master playlist token (`{token}` or `{token}.m3u8`), or None."""
    try:
        claim = stream.decode(infra, token)
    except Forbidden:
        return None
    return claim if claim.path == stream.MASTER else None


def _signer(infra: Infra, claim: StreamClaim) -> Any:
    """sign(path) -> `/stream/{token}.{ext}` expiring with the page's own token."""

    def sign(path: str) -> str:
        child = StreamClaim(claim.asset_id, path, claim.expires_at, claim.viewer)
        return "/stream/" + stream.sign(infra, child)

    return sign


def poster_path(asset: Asset) -> str | None:
    """The widest poster frame up to POSTER_WIDTH (or the narrowest if all are wider)."""
    posters: dict[str, str] = (asset.derivatives or {}).get("posters") or {}
    sized = sorted((int(w), p) for w, p in posters.items() if w.isdigit())
    if not sized:
        return None
    fitting = [p for w, p in sized if w <= POSTER_WIDTH]
    return fitting[-1] if fitting else sized[0][1]


def player_config(infra: Infra, claim: StreamClaim, name: str, asset: Asset) -> dict[str, Any]:
    """What the page's script needs: every URL signed, nothing else of the asset."""
    sign = _signer(infra, claim)
    derivatives = asset.derivatives or {}
    poster = poster_path(asset)
    thumbnails = derivatives.get("storyboard_vtt")
    captions = []
    if asset.transcript_status is TranscriptStatus.ready:
        lang = asset.transcript_language or "und"
        captions.append(
            {
                "lang": lang,
                "label": language_name(asset.transcript_language),
                "src": sign(f"{transcripts.STREAM_DIR}/{transcripts.VTT_FILE}"),
            }
        )
    return {
        "token": name,
        "src": f"/stream/{name}.m3u8",
        "title": asset.title or asset.filename or "Video",
        "duration": asset.duration_seconds,
        "aspect": [asset.width, asset.height] if asset.width and asset.height else None,
        "poster": sign(poster) if poster else None,
        "thumbnails": sign(thumbnails) if thumbnails else None,
        "captions": captions,
        "expires_at": claim.expires_at,
        # POST target of the playback beacons (analytics; the token authenticates them).
        "beacons": "/analytics/events",
    }


def _problem(problem: Problem) -> HTMLResponse:
    body = pages.message_page(problem.title, problem.detail)
    return HTMLResponse(body, status_code=problem.status, headers=FRAME_HEADERS)


@router.get("/embed/{token}", name="embed", response_class=HTMLResponse)
async def embed(token: str, request: Request, infra: InfraDep, session: SessionDep) -> HTMLResponse:
    """The player page of the video the playback token names."""
    claim = master_claim(infra, token)
    if claim is None:
        return _problem(EXPIRED)
    asset = await videos.find_asset(session, claim.asset_id)
    if asset is None:
        return _problem(MISSING)
    if asset.status in library.GONE:
        return _problem(GONE)
    if asset.playback_key is None:
        return _problem(NOT_READY)
    name = token.partition(".")[0]
    config = player_config(infra, claim, name, asset)
    return HTMLResponse(pages.player_page(config), headers=FRAME_HEADERS)
