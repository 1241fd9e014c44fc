from __future__ import annotations

from fastapi import APIRouter, Request

from streamcore.auth.dependencies import Action, PrincipalDep, authorize
from streamcore.deps import InfraDep, SessionDep
from streamcore.errors import NotFound, error_responses
from streamcore.stream import service as stream
from streamcore.transcripts import service as transcripts
from streamcore.videos import service
from streamcore.videos.schemas import VideoRead

router = APIRouter(tags=["videos"])


@router.get("/videos/{video_id}", response_model=VideoRead, responses=error_responses(NotFound))
async def get_video(
    video_id: str, request: Request, session: SessionDep, infra: InfraDep, principal: PrincipalDep
) -> VideoRead:
    """Video metadata, status, progress, a signed playback URL and transcript links."""
    asset = await service.get_asset(session, video_id)
    await authorize(session, principal, asset.project_id, Action.read)
    playback_url = None
    if asset.playback_key is not None:
        token = stream.playback_name(infra, asset.id, viewer=None)
        playback_url = str(request.url_for("stream", token=token))

    def link(path: str) -> str:
        name = stream.signed_name(infra, asset.id, path, viewer=None)
        return str(request.url_for("stream", token=name))

    return service.to_read(asset, playback_url, transcripts.to_read(asset, link))
