from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contractors.rating import Grade, GroupKind, PeriodKind
from grc.contracts.models import Contractor
from grc.db import UTCDateTime, enum_column_type, utcnow
from grc.extensions import Model


class RatingSettingsColumns:
    """The weights and settings a rating is computed with: the administrator's current ones,
    and those kept with each stored rating."""

    weight_satisfaction: Mapped[int]
    weight_acknowledged_on_time: Mapped[int]
    weight_completed_on_time: Mapped[int]
    weight_not_reopened: Mapped[int]
    min_answers: Mapped[int]
    threshold_a: Mapped[float] = mapped_column(sa.Float)
    threshold_b: Mapped[float] = mapped_column(sa.Float)
    threshold_c: Mapped[float] = mapped_column(sa.Float)
    threshold_d: Mapped[float] = mapped_column(sa.Float)


class ContractorRating(RatingSettingsColumns, Model):
    """A contractor's figures for one period and one group of its orders (overall: group
    code ``''``, so that the unique key holds), with the weights and settings used: a
    later change of the weights leaves the stored period as it was. Recomputing a period
    replaces all of its rows."""

    __tablename__ = "contractor_ratings"
    __table_args__ = (
        sa.UniqueConstraint("contractor_id", "period", "group_kind", "group_code"),
        sa.Index("ix_contractor_ratings_period_group", "period", "group_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contractor_id: Mapped[int] = mapped_column(sa.ForeignKey("contractors.id"))
    # "2026-Q3" or "2026-07"
    period: Mapped[str] = mapped_column(sa.String(7))
    period_kind: Mapped[PeriodKind] = mapped_column(
        enum_column_type(PeriodKind, "rating_period_kind")
    )
    group_kind: Mapped[GroupKind] = mapped_column(enum_column_type(GroupKind, "rating_group_kind"))
    group_code: Mapped[str] = mapped_column(sa.String(40), default="")
    orders: Mapped[int]
    answers: Mapped[int]
    mean_satisfaction: Mapped[float | None] = mapped_column(sa.Float)
    acknowledged_on_time: Mapped[float | None] = mapped_column(sa.Float)
    completed_on_time: Mapped[float | None] = mapped_column(sa.Float)
    reopen_rate: Mapped[float | None] = mapped_column(sa.Float)
    score: Mapped[float | None] = mapped_column(sa.Float)
    grade: Mapped[Grade | None] = mapped_column(enum_column_type(Grade, "rating_grade"))
    enough_answers: Mapped[bool]
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contractor: Mapped[Contractor] = relationship()


class RatingConfig(RatingSettingsColumns, Model):
    """The administrator's current weights and settings: one row (id 1), absent until first
    set (the defaults of ``contractors.rating`` then apply)."""

    __tablename__ = "rating_settings"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
