"""Append-only event tables for analytics."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from streamcore.db.base import Base, IdMixin, TimestampMixin


class UploadLog(IdMixin, TimestampMixin, Base):
    __tablename__ = "upload_logs"

    project_id: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)
    asset_id: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)
    principal: Mapped[str] = mapped_column(String(128), default="", nullable=False)
    method: Mapped[str] = mapped_column(String(32), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    duration_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    result: Mapped[str] = mapped_column(String(32), nullable=False)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    client_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(512), nullable=True)


class StreamLog(IdMixin, TimestampMixin, Base):
    __tablename__ = "stream_logs"

    asset_id: Mapped[str] = mapped_column(String(32), index=True, nullable=False)
    path: Mapped[str] = mapped_column(String(512), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    status_code: Mapped[int] = mapped_column(BigInteger, nullable=False)
    bytes_sent: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    client_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(512), nullable=True)
