from __future__ import annotations

from fastapi import APIRouter, Request, status

from streamcore.auth.dependencies import Action, PrincipalDep, authorize
from streamcore.deps import InfraDep
from streamcore.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
    error_responses,
)
from streamcore.uploads import service
from streamcore.videos import service as videos
from streamcore.videos.schemas import VideoRead

router = APIRouter(tags=["uploads"])

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "session_id": {"type": "string"},
                    },
                }
            }
        },
    }
}


@router.post(
    "/{project_id}/upload",
    status_code=status.HTTP_201_CREATED,
    response_model=VideoRead,
    responses=error_responses(
        BadRequest, NotFound, PayloadTooLarge, UnsupportedMediaType, ServiceUnavailable
    ),
    openapi_extra=UPLOAD_BODY,
)
async def upload(
    project_id: str, request: Request, infra: InfraDep, principal: PrincipalDep
) -> VideoRead:
    """Upload a video or audio file (multipart field `file`), streamed to storage."""
    async with infra.transaction() as session:
        await authorize(session, principal, project_id, Action.upload)
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise UnsupportedMediaType("send the file as multipart/form-data")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > infra.settings.upload.max_bytes:
        raise PayloadTooLarge(
            f"upload exceeds the limit of {infra.settings.upload.max_bytes} bytes"
        )
    asset = await service.receive_multipart(
        infra,
        project_id=project_id,
        body=request.stream(),
        content_type=content_type,
        client=service.UploadClient(
            principal=principal.label,
            ip=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
        ),
    )
    return videos.to_read(asset, None)
