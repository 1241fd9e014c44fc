from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from streamcore.db.base import Base, IdMixin, TimestampMixin, UTCDateTime


class Project(IdMixin, TimestampMixin, Base):
    __tablename__ = "projects"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, nullable=False
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    # Transcribe every asset of the project once it is transcoded.
    auto_transcribe: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    # Lifetime of the playback tokens of its videos (None: the server's default).
    playback_ttl_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # DELETE /projects/{id}: the project is gone for every caller at once; its row (and
    # sessions, keys, tombstones) goes once every video is purged.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
