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


def _header(
    name: str, description: str, *, required: bool = True, **schema: object
) -> dict[str, object]:
    return {
        "name": name,
        "in": "header",
        "required": required,
        "description": description,
        "schema": {"type": "string", **schema},
    }


UINT = r"^[0-9]{1,19}$"
TUS_RESUMABLE = _header("Tus-Resumable", "The tus version the client speaks.", enum=[tus.VERSION])
UPLOAD_METADATA = _header(
    "Upload-Metadata",
    "Comma-separated `key base64(value)` pairs; `project_id` is required, `session_id`, "
    "`filename` and `filetype` are optional.",
)
UPLOAD_LENGTH = _header("Upload-Length", "The size of the whole upload in bytes.", pattern=UINT)
UPLOAD_OFFSET = _header("Upload-Offset", "Where this PATCH body starts.", pattern=UINT)
UPLOAD_CHECKSUM = _header(
    "Upload-Checksum", "`sha1|sha256|md5 base64(digest)` of this body.", required=False
)


def _response_headers(*names: str) -> dict[str, object]:
    return {name: {"schema": {"type": "string"}} for name in names}


STATE_HEADERS = _response_headers(
    "Tus-Resumable", "Upload-Offset", "Upload-Length", "Upload-Expires", "X-Asset-Id"
)


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


@router.options(
    "/",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={
        204: {
            "description": "The server's tus versions, extensions and limits",
            "headers": _response_headers(
                "Tus-Resumable",
                "Tus-Version",
                "Tus-Extension",
                "Tus-Max-Size",
                "Tus-Checksum-Algorithm",
            ),
        }
    },
)
async def tus_options(request: Request) -> Response:
    """tus discovery: versions, extensions and limits."""
    return Response(status_code=204, headers=_server_headers(request))


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    response_class=Response,
    responses={
        201: {
            "description": "Created; PATCH the bytes to Location",
            "headers": {**STATE_HEADERS, **_response_headers("Location")},
        },
        **error_responses(BadRequest, NotFound, Conflict, PayloadTooLarge, PreconditionFailed),
    },
    openapi_extra={"parameters": [TUS_RESUMABLE, UPLOAD_LENGTH, UPLOAD_METADATA]},
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
    responses={
        200: {"description": "The upload's offset and length", "headers": STATE_HEADERS},
        **error_responses(NotFound, Gone, PreconditionFailed),
    },
    openapi_extra={"parameters": [TUS_RESUMABLE]},
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
        PreconditionFailed,
    )
    | {204: {"description": "Appended; Upload-Offset is the new offset", "headers": STATE_HEADERS}},
    openapi_extra={
        "parameters": [TUS_RESUMABLE, UPLOAD_OFFSET, UPLOAD_CHECKSUM],
        "requestBody": {
            "required": True,
            "content": {OFFSET_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        },
    },
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
    responses=error_responses(NotFound, Conflict, Gone, PreconditionFailed),
    openapi_extra={"parameters": [TUS_RESUMABLE]},
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
