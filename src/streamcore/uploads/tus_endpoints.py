"""tus 1.0 routes under /uploads/tus/ (any tus client: tus-js-client, tuspy, Uppy)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from streamcore.auth.dependencies import Action, PrincipalDep, authorize
from streamcore.deps import InfraDep, SessionDep
from streamcore.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
    error_responses,
)
from streamcore.inputs import PathId, header_int, parse_id
from streamcore.uploads import tus
from streamcore.uploads.errors import ChecksumMismatch, Gone, PreconditionFailed
from streamcore.uploads.http import body_of, client_of

router = APIRouter(prefix="/uploads/tus", tags=["uploads"])

OFFSET_CONTENT_TYPE = "application/offset+octet-stream"


def _require_tus(request: Request) -> None:
    if request.headers.get("tus-resumable") != tus.VERSION:
        raise PreconditionFailed(f"this server speaks tus {tus.VERSION}")


def _server_headers(request: Request) -> dict[str, str]:
    infra = request.app.state.infra
    return {
        "Tus-Resumable": tus.VERSION,
        "Tus-Version": tus.VERSION,
        "Tus-Extension": tus.EXTENSIONS,
        "Tus-Max-Size": str(infra.settings.upload.max_bytes),
        "Tus-Checksum-Algorithm": ",".join(tus.CHECKSUMS),
    }


@router.options("/", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def tus_options(request: Request) -> Response:
    """tus discovery: versions, extensions and limits."""
    return Response(status_code=204, headers=_server_headers(request))


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    response_class=Response,
    responses=error_responses(BadRequest, NotFound, PayloadTooLarge, PreconditionFailed),
)
async def tus_create(
    request: Request, infra: InfraDep, session: SessionDep, principal: PrincipalDep
) -> Response:
    """Create a resumable upload (Upload-Length; Upload-Metadata with project_id)."""
    _require_tus(request)
    if "upload-defer-length" in request.headers:
        raise BadRequest("Upload-Defer-Length is not supported; send Upload-Length")
    length = header_int(request.headers.get("upload-length"), "Upload-Length")
    meta = tus.parse_metadata(request.headers.get("upload-metadata"))
    project_id = parse_id(meta.get("project_id"), "Upload-Metadata project_id")
    if project_id is None:
        raise BadRequest("Upload-Metadata must carry project_id")
    parse_id(meta.get("session_id"), "Upload-Metadata session_id")
    await authorize(session, principal, project_id, Action.upload)
    upload = await tus.create(infra, session, length=length, meta=meta, principal=principal.label)
    location = str(request.url_for("tus_upload", upload_id=upload.id))
    headers = {**tus.headers_of(upload), "Location": location}
    return Response(status_code=201, headers=headers)


@router.head(
    "/{upload_id}",
    name="tus_upload",
    response_class=Response,
    responses=error_responses(NotFound, Gone),
)
async def tus_head(
    upload_id: PathId, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    """The upload's offset: where a resumed upload continues."""
    _require_tus(request)
    project_id = await tus.project_of(session, upload_id)
    await authorize(session, principal, project_id, Action.upload, not_found="no such upload")
    upload = await tus.get(session, upload_id)
    return Response(status_code=200, headers=tus.headers_of(upload))


@router.patch(
    "/{upload_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(
        BadRequest,
        NotFound,
        Conflict,
        Gone,
        PayloadTooLarge,
        UnsupportedMediaType,
        ChecksumMismatch,
        ServiceUnavailable,
    ),
)
async def tus_patch(
    upload_id: PathId, request: Request, infra: InfraDep, principal: PrincipalDep
) -> Response:
    """Append bytes at Upload-Offset; the last PATCH starts processing."""
    _require_tus(request)
    if request.headers.get("content-type", "").split(";")[0].strip() != OFFSET_CONTENT_TYPE:
        raise UnsupportedMediaType(f"PATCH bodies must be {OFFSET_CONTENT_TYPE}")
    offset = header_int(request.headers.get("upload-offset"), "Upload-Offset")
    checksum = tus.parse_checksum(request.headers.get("upload-checksum"))
    async with infra.transaction() as session:
        project_id = await tus.project_of(session, upload_id)
        await authorize(session, principal, project_id, Action.upload, not_found="no such upload")
    upload = await tus.patch(
        infra,
        upload_id,
        offset=offset,
        body=body_of(request),
        checksum=checksum,
        client=client_of(request, principal.label),
    )
    return Response(status_code=204, headers=tus.headers_of(upload))


@router.delete(
    "/{upload_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(NotFound, Conflict, Gone),
)
async def tus_delete(
    upload_id: PathId, request: Request, infra: InfraDep, principal: PrincipalDep
) -> Response:
    """Terminate an upload and drop its bytes."""
    _require_tus(request)
    async with infra.transaction() as session:
        project_id = await tus.project_of(session, upload_id)
        await authorize(session, principal, project_id, Action.upload, not_found="no such upload")
    await tus.terminate(infra, upload_id, client_of(request, principal.label))
    return Response(status_code=204, headers={"Tus-Resumable": tus.VERSION})
