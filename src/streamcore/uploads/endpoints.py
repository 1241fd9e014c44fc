from __future__ import annotations

from fastapi import APIRouter, Query, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from streamcore.auth.dependencies import Action, PrincipalDep, authorize
from streamcore.deps import InfraDep, SessionDep
from streamcore.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
    error_responses,
)
from streamcore.inputs import PathId, optional_header_int
from streamcore.uploads import presign, service, url_import
from streamcore.uploads.http import body_of, client_of
from streamcore.uploads.schemas import ObjectReceived, PresignCreate, PresignRead, UrlImportCreate
from streamcore.uploads.tus_endpoints import router as tus_router
from streamcore.videos import service as videos
from streamcore.videos.schemas import VideoRead

router = APIRouter(tags=["uploads"])

MAX_JSON_BYTES = 64 * 1024

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
            },
            "application/json": {"schema": UrlImportCreate.model_json_schema()},
        },
    }
}


async def _json_body(request: Request) -> UrlImportCreate:
    raw = bytearray()
    async for chunk in body_of(request):
        raw += chunk
        if len(raw) > MAX_JSON_BYTES:
            raise PayloadTooLarge("the JSON body is too large")
    try:
        return UrlImportCreate.model_validate_json(bytes(raw))
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc


@router.post(
    "/{project_id}/upload",
    status_code=status.HTTP_201_CREATED,
    response_model=VideoRead,
    responses=error_responses(
        BadRequest, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, ServiceUnavailable
    ),
    openapi_extra=UPLOAD_BODY,
)
async def upload(
    project_id: PathId, request: Request, infra: InfraDep, principal: PrincipalDep
) -> VideoRead:
    """Upload a file (multipart field `file`) or import one from a URL (JSON `{"url"}`)."""
    async with infra.transaction() as session:
        await authorize(session, principal, project_id, Action.upload)
    content_type = request.headers.get("content-type", "")
    client = client_of(request, principal.label)
    if content_type.split(";")[0].strip().lower() == "application/json":
        body = await _json_body(request)
        asset = await url_import.import_url(infra, project_id=project_id, body=body, client=client)
        return videos.to_read(asset, None)
    if not content_type.startswith("multipart/form-data"):
        raise UnsupportedMediaType("send a file as multipart/form-data, or JSON with a url")
    declared = optional_header_int(request.headers.get("content-length"), "Content-Length")
    asset = await service.receive_multipart(
        infra,
        project_id=project_id,
        body=body_of(request),
        content_type=content_type,
        declared=declared,
        client=client,
    )
    return videos.to_read(asset, None)


@router.post(
    "/uploads/presign",
    status_code=status.HTTP_201_CREATED,
    response_model=PresignRead,
    # 409: external_id already used in the project.
    responses=error_responses(NotFound, Conflict, PayloadTooLarge, ServiceUnavailable),
)
async def create_presigned(
    body: PresignCreate,
    request: Request,
    infra: InfraDep,
    session: SessionDep,
    principal: PrincipalDep,
) -> PresignRead:
    """Create a video awaiting upload and the URL(s) to upload its bytes to."""
    await authorize(session, principal, body.project_id, Action.upload)
    urls = presign.Urls(
        local_put=lambda asset_id: str(request.url_for("put_object", asset_id=asset_id)),
        complete=lambda asset_id: str(request.url_for("complete_upload", asset_id=asset_id)),
    )
    out = await presign.create(infra, session, body, principal.label, urls)
    await service.Attempt(
        infra, client_of(request, principal.label), "presign", body.project_id, out.asset_id
    ).succeeded(session, body.size, result="issued")
    return out


@router.put(
    "/uploads/{asset_id}/object",
    name="put_object",
    response_model=ObjectReceived,
    responses=error_responses(BadRequest, Forbidden, Conflict, PayloadTooLarge, ServiceUnavailable),
)
async def put_object(
    asset_id: PathId,
    request: Request,
    infra: InfraDep,
    upload: str = Query(),
    exp: int = Query(),
    sig: str = Query(),
) -> ObjectReceived:
    """Receive the bytes of a presigned upload (local storage; the URL is the credential)."""
    length = optional_header_int(request.headers.get("content-length"), "Content-Length")
    size = await presign.receive_object(
        infra,
        asset_id=asset_id,
        upload_id=upload,
        expires_at=exp,
        sig=sig,
        content_length=length,
        body=body_of(request),
        client=client_of(request, "signed-url"),
    )
    return ObjectReceived(asset_id=asset_id, size=size)


@router.post(
    "/uploads/{asset_id}/complete",
    name="complete_upload",
    response_model=VideoRead,
    responses=error_responses(BadRequest, NotFound, Conflict, ServiceUnavailable),
)
async def complete_upload(
    asset_id: PathId, request: Request, infra: InfraDep, principal: PrincipalDep
) -> VideoRead:
    """Check the uploaded object and start processing it."""
    async with infra.transaction() as session:
        asset = await videos.get_asset(session, asset_id)
        await authorize(
            session, principal, asset.project_id, Action.upload, not_found="video not found"
        )
    asset = await presign.complete(infra, asset_id, client_of(request, principal.label))
    return videos.to_read(asset, None)


# tus routes live in their own module; mounted here so the app includes one router.
router.include_router(tus_router)
