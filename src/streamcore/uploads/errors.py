from __future__ import annotations

from streamcore.errors import AppError, BadRequest, Conflict


class ClientGone(BadRequest):
    detail = "the client disconnected before the upload was complete"


class ChecksumMismatch(AppError):
    # tus checksum extension: 460 Checksum Mismatch.
    status_code = 460
    detail = "the body does not match Upload-Checksum"


class Gone(AppError):
    status_code = 410
    detail = "this upload has expired or was terminated"


class PreconditionFailed(AppError):
    status_code = 412
    detail = "unsupported Tus-Resumable version"


class UploadNotComplete(Conflict):
    """Completing before every byte is in: the upload's state, not the request, is wrong."""

    detail = "the upload is not complete: send every byte first"


class SizeMismatch(BadRequest):
    detail = "the stored object is not of the declared size"
