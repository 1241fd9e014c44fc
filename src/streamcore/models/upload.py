"""Uploads in progress: presigned multipart uploads and tus uploads keep their state
here, so any API node can take the next request of the same upload."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from streamcore.db.base import Base, IdMixin, TimestampMixin, UTCDateTime


class UploadMethod(enum.StrEnum):
    # One presigned PUT (to S3/Azure, or to the API itself on local storage).
    presign = "presign"
    # Presigned multipart: one URL per part, joined on complete.
    multipart = "multipart"
    tus = "tus"


class UploadState(enum.StrEnum):
    open = "open"
    completed = "completed"
    aborted = "aborted"


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=16, validate_strings=True)


class Upload(IdMixin, TimestampMixin, Base):
    __tablename__ = "uploads"

    asset_id: Mapped[str] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), index=True, nullable=False
    )
    project_id: Mapped[str] = mapped_column(String(32), index=True, nullable=False)
    method: Mapped[UploadMethod] = mapped_column(_enum(UploadMethod), nullable=False)
    state: Mapped[UploadState] = mapped_column(_enum(UploadState), nullable=False)
    # Where the finished object goes.
    key: Mapped[str] = mapped_column(String(512), nullable=False)
    # The storage service's multipart upload id (S3) or block id prefix (Azure).
    storage_upload_id: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    part_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    part_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # tus: bytes received so far, and the objects holding them, in order.
    offset_bytes: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    chunk_keys: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    # tus Upload-Metadata, decoded.
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    principal: Mapped[str] = mapped_column(String(128), default="", nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True, nullable=False)
