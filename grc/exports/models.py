"""An export too large to stream at once: asked by a user, written by a background job."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grc.db import UTCDateTime, enum_column_type, utcnow
from grc.extensions import Model
from grc.people.models import User


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class ExportStatus(StrEnum):
    PENDING = "pending"  # asked, waiting for a worker
    RUNNING = "running"  # a worker is writing the file
    DONE = "done"  # the file is ready until expires_at
    FAILED = "failed"
    EXPIRED = "expired"  # the file was deleted after expires_at


# The states of a job still under way: a second identical request while one is meets the
# unique index below and gets the same job.
ACTIVE_STATUSES = (ExportStatus.PENDING, ExportStatus.RUNNING)
_ACTIVE_SQL = "status IN ('pending', 'running')"


class ExportJob(Model):
    __tablename__ = "export_jobs"
    __table_args__ = (
        # A double click (or a second tab) must not start a second job for the same request.
        sa.Index(
            "uq_export_jobs_active_request",
            "user_id",
            "kind",
            "filters_key",
            "format",
            unique=True,
            sqlite_where=sa.text(_ACTIVE_SQL),
            postgresql_where=sa.text(_ACTIVE_SQL),
        ),
        sa.Index("ix_export_jobs_status_expires_at", "status", "expires_at"),
        sa.CheckConstraint(
            "status <> 'done' OR (file_name IS NOT NULL AND finished_at IS NOT NULL"
            " AND expires_at IS NOT NULL)",
            name="done_has_file",
        ),
        sa.CheckConstraint("rows_done >= 0", name="rows_done"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # What is exported: a name of the registry ("claims", a report's name).
    kind: Mapped[str] = mapped_column(sa.String(60))
    # The request's filters as its query arguments, and their digest (the unique key's part).
    filters: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    filters_key: Mapped[str] = mapped_column(sa.String(64))
    format: Mapped[ExportFormat] = mapped_column(enum_column_type(ExportFormat, "export_format"))
    # The language of the headers and words in the file (the asker's, when they asked).
    locale: Mapped[str] = mapped_column(sa.String(5), default="fr")
    status: Mapped[ExportStatus] = mapped_column(
        enum_column_type(ExportStatus, "export_status"), default=ExportStatus.PENDING
    )
    rows_done: Mapped[int] = mapped_column(default=0)
    rows_total: Mapped[int | None]
    # The file's name in the instance's exports folder (a random name), and the name the
    # browser saves it under.
    file_name: Mapped[str | None] = mapped_column(sa.String(100))
    download_name: Mapped[str] = mapped_column(sa.String(120))
    error: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Written with every progress step: a running job silent for long was lost with its worker.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def finished(self) -> bool:
        return self.status not in ACTIVE_STATUSES
