from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grc.db import StrEnum, UTCDateTime, enum_column_type, utcnow
from grc.extensions import Model, db

if TYPE_CHECKING:
    from grc.claims.models import Category, Claim
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


class Contractor(Model):
    __tablename__ = "contractors"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(30), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    # Retired, never deleted (claims and work orders refer to it): no longer offered for a
    # new contract from that day; its contracts end the day before.
    retired_on: Mapped[date | None] = mapped_column(sa.Date)

    contracts: Mapped[list[Contract]] = relationship(back_populates="contractor")


# A claim's priority → the contract's deadlines for it. The names are the claim priorities'
# values (grc.claims.models.Priority, which imports this module).
CONTRACT_PRIORITIES = ("urgent", "high", "normal", "low")


def _deadline_check(priority: str) -> sa.CheckConstraint:
    ack, complete = f"{priority}_acknowledge_hours", f"{priority}_complete_hours"
    return sa.CheckConstraint(f"{ack} > 0 AND {complete} >= {ack}", name=f"deadlines_{priority}")


def contract_deadlines(contract: object, priority: str) -> tuple[int, int]:
    """Hours to acknowledge and to complete an order for a claim of that priority, read from
    a contract's ``<priority>_acknowledge_hours`` / ``<priority>_complete_hours`` (the row or
    the catalogue's frozen copy of it)."""
    if priority not in CONTRACT_PRIORITIES:
        raise ValueError(f"unknown priority {priority!r}")
    return (
        getattr(contract, f"{priority}_acknowledge_hours"),
        getattr(contract, f"{priority}_complete_hours"),
    )


class Contract(Model):
    __tablename__ = "contracts"
    __table_args__ = (
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates_ordered"),
        *(_deadline_check(priority) for priority in CONTRACT_PRIORITIES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(40), unique=True)
    contractor_id: Mapped[int] = mapped_column(sa.ForeignKey("contractors.id"), index=True)
    # multiservice, elevator, heating, cleaning, pest…: matches the catalogue's contract:<kind>.
    kind: Mapped[str] = mapped_column(sa.String(30))
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date | None] = mapped_column(sa.Date)
    # What the contractor promises, in calendar hours from the order, per claim priority:
    # an emergency is made safe within hours, standard work is done within days.
    urgent_acknowledge_hours: Mapped[int] = mapped_column(default=1)
    urgent_complete_hours: Mapped[int] = mapped_column(default=4)
    high_acknowledge_hours: Mapped[int] = mapped_column(default=2)
    high_complete_hours: Mapped[int] = mapped_column(default=24)
    normal_acknowledge_hours: Mapped[int] = mapped_column(default=4)
    normal_complete_hours: Mapped[int] = mapped_column(default=72)
    low_acknowledge_hours: Mapped[int] = mapped_column(default=8)
    low_complete_hours: Mapped[int] = mapped_column(default=120)

    contractor: Mapped[Contractor] = relationship(back_populates="contracts")
    residences: Mapped[list[Residence]] = relationship(secondary=contract_residences)
    categories: Mapped[list[Category]] = relationship(secondary=contract_categories)

    def is_valid_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)

    def deadlines(self, priority: str) -> tuple[int, int]:
        return contract_deadlines(self, priority)

    def set_deadlines(self, **hours: tuple[int, int]) -> None:
        """``urgent=(1, 4), normal=(4, 72)…``: acknowledge and complete hours per priority."""
        for priority, (acknowledge, complete) in hours.items():
            if priority not in CONTRACT_PRIORITIES:
                raise ValueError(f"unknown priority {priority!r}")
            setattr(self, f"{priority}_acknowledge_hours", acknowledge)
            setattr(self, f"{priority}_complete_hours", complete)


class WorkOrderStatus(StrEnum):
    SENT = "sent"  # e-mailed to the contractor, no answer yet
    ACKNOWLEDGED = "acknowledged"  # the contractor took it on
    SCHEDULED = "scheduled"  # a visit is planned
    DONE = "done"  # the contractor says the work is finished
    CANNOT_INTERVENE = "cannot_intervene"  # tenant absent, quote needed, not covered…
    CANCELLED = "cancelled"  # the claim was cancelled or taken back by a unit
    SUPERSEDED = "superseded"  # the claim went to another contract: a new order replaces it


OPEN_WORK_ORDER_STATUSES = (
    WorkOrderStatus.SENT,
    WorkOrderStatus.ACKNOWLEDGED,
    WorkOrderStatus.SCHEDULED,
    WorkOrderStatus.CANNOT_INTERVENE,
)


class WorkOrder(Model):
    """The order e-mailed to a contractor for one claim (a claim may have several). Its
    status changes only through ``grc.contracts.lifecycle``."""

    __tablename__ = "work_orders"
    __table_args__ = (
        sa.CheckConstraint(
            "acknowledged_at IS NOT NULL OR status NOT IN ('acknowledged', 'scheduled', 'done')",
            name="acknowledged_at_set",
        ),
        sa.CheckConstraint(
            "(status = 'done') = (completed_at IS NOT NULL)", name="done_iff_completed_at"
        ),
        sa.CheckConstraint(
            "(status IN ('cancelled', 'superseded')) = (cancelled_at IS NOT NULL)",
            name="cancelled_iff_cancelled_at",
        ),
        sa.CheckConstraint(
            "appointment_at IS NOT NULL OR status <> 'scheduled'", name="scheduled_has_visit"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claims.id"), index=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id"))
    contractor_id: Mapped[int] = mapped_column(sa.ForeignKey("contractors.id"), index=True)
    status: Mapped[WorkOrderStatus] = mapped_column(
        enum_column_type(WorkOrderStatus, "work_order_status"), default=WorkOrderStatus.SENT
    )
    # What the contract promises, computed when the order leaves.
    acknowledge_due: Mapped[datetime] = mapped_column(UTCDateTime)
    complete_due: Mapped[datetime] = mapped_column(UTCDateTime)
    # The contract's completion deadline is later than the claim's resolution deadline: the
    # conflict is recorded when the order leaves, on the claim's timeline and in the e-mail.
    beyond_claim_deadline: Mapped[bool] = mapped_column(default=False)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When it was cancelled or superseded.
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appointment_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appointment_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a reply needs a person (question, unclear reading, cannot intervene).
    needs_attention: Mapped[bool] = mapped_column(default=False, index=True)
    last_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    claim: Mapped[Claim] = relationship()
    contract: Mapped[Contract] = relationship()
    contractor: Mapped[Contractor] = relationship()
