from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grc.db import UTCDateTime, utcnow
from grc.extensions import Model
from grc.people.models import User


class Invitation(Model):
    """A one-time link to choose a password, e-mailed to a user by an administrator (also
    how a forgotten password is reset). Only a SHA-256 digest of the link's secret is kept."""

    __tablename__ = "user_invitations"
    __table_args__ = (
        sa.CheckConstraint("used_at IS NULL OR used_at >= created_at", name="used_after_created"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
