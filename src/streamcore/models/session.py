from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from streamcore.db.base import Base, IdMixin, TimestampMixin, UTCDateTime


class RecordingSession(IdMixin, TimestampMixin, Base):
    """A recording session: browsers meet in it and its recordings become assets."""

    __tablename__ = "sessions"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True, nullable=False
    )
    name: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    created_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # An ended session takes no more joins and no more recordings.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
