from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grc.extensions import db

if TYPE_CHECKING:
    from grc.claims.models import Category
    from grc.housing.models import Residence

contract_residences = sa.Table(
    "contract_residences",
    db.metadata,
    sa.Column("contract_id", sa.ForeignKey("contracts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("residence_id", sa.ForeignKey("residences.id"), primary_key=True, index=True),
)

contract_categories = sa.Table(
    "contract_categories",
    db.metadata,
    sa.Column("contract_id", sa.ForeignKey("contracts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("category_id", sa.ForeignKey("categories.id"), primary_key=True, index=True),
)


class Contractor(db.Model):
    __tablename__ = "contractors"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(30), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(20))

    contracts: Mapped[list[Contract]] = relationship(back_populates="contractor")


class Contract(db.Model):
    __tablename__ = "contracts"
    __table_args__ = (
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates_ordered"),
        sa.CheckConstraint(
            "acknowledge_hours > 0 AND complete_hours >= acknowledge_hours", name="deadlines"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(40), unique=True)
    contractor_id: Mapped[int] = mapped_column(sa.ForeignKey("contractors.id"), index=True)
    # multiservice, elevator, heating, cleaning, pest…: matches the catalogue's contract:<kind>.
    kind: Mapped[str] = mapped_column(sa.String(30))
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date | None] = mapped_column(sa.Date)
    acknowledge_hours: Mapped[int] = mapped_column(default=4)
    complete_hours: Mapped[int] = mapped_column(default=72)

    contractor: Mapped[Contractor] = relationship(back_populates="contracts")
    residences: Mapped[list[Residence]] = relationship(secondary=contract_residences)
    categories: Mapped[list[Category]] = relationship(secondary=contract_categories)

    def is_valid_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)
