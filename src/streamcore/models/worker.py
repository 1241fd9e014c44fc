from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from streamcore.db.base import Base, UTCDateTime, utcnow


class WorkerNode(Base):
    """A running worker process, as it last reported itself (heartbeat rows let any
    process see every worker)."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    pid: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    bus: Mapped[str] = mapped_column(String(16), default="db", nullable=False)
    consumers: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    running_jobs: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # {"topic": [partition, ...]} assigned to this worker's consumers.
    partitions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
