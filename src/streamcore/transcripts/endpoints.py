from __future__ import annotations

from fastapi import APIRouter, status

from streamcore.auth.dependencies import Action, PrincipalDep, authorize
from streamcore.deps import InfraDep, SessionDep
from streamcore.errors import (
    Conflict,
    NotFound,
    ServiceUnavailable,
    Unprocessable,
    error_responses,
)
from streamcore.transcripts import service
from streamcore.transcripts.schemas import TranscribeAccepted, TranscribeRequest
from streamcore.videos import service as videos

router = APIRouter(tags=["transcripts"])


@router.post(
    "/media/transcribe",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TranscribeAccepted,
    responses=error_responses(NotFound, Conflict, Unprocessable, ServiceUnavailable),
)
async def transcribe(
    body: TranscribeRequest, session: SessionDep, infra: InfraDep, principal: PrincipalDep
) -> TranscribeAccepted:
    """Queue a transcription of a ready video (503 when WHISPER_ENABLED is off)."""
    service.ensure_enabled(infra.settings.transcribe)
    asset = await videos.get_asset(session, body.video_id, for_update=True)
    await authorize(
        session, principal, asset.project_id, Action.upload, not_found="video not found"
    )
    await service.request_transcription(session, infra.settings, asset)
    return TranscribeAccepted(video_id=asset.id, transcript=service.to_read(asset))
