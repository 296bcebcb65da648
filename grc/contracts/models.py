from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grc.db import StrEnum, UTCDateTime, enum_column_type, utcnow
from grc.extensions import db

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


class WorkOrderStatus(StrEnum):
    SENT = "sent"  # e-mailed to the contractor, no answer yet
    ACKNOWLEDGED = "acknowledged"  # the contractor took it on
    SCHEDULED = "scheduled"  # a visit is planned
    DONE = "done"  # the contractor says the work is finished
    CANNOT_INTERVENE = "cannot_intervene"  # tenant absent, quote needed, not covered…
    CANCELLED = "cancelled"  # the claim was closed or rerouted


OPEN_WORK_ORDER_STATUSES = (
    WorkOrderStatus.SENT,
    WorkOrderStatus.ACKNOWLEDGED,
    WorkOrderStatus.SCHEDULED,
    WorkOrderStatus.CANNOT_INTERVENE,
)


class WorkOrder(db.Model):
    """The order e-mailed to a contractor for one claim (a claim may have several)."""

    __tablename__ = "work_orders"

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
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appointment_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appointment_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a reply needs a person (question, unclear reading, cannot intervene).
    needs_attention: Mapped[bool] = mapped_column(default=False, index=True)
    last_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    claim: Mapped[Claim] = relationship()
    contract: Mapped[Contract] = relationship()
    contractor: Mapped[Contractor] = relationship()


class InboundStatus(StrEnum):
    RECEIVED = "received"  # stored, waiting for the inbound worker
    APPLIED = "applied"  # matched, read and applied to its claim
    FILED = "filed"  # matched and filed on the timeline, nothing changed (auto-reply…)
    REVIEW = "review"  # matched, but a person must read it (unclear, question, closed claim)
    HELD = "held"  # the sender is not the work order's contractor: not applied
    TRIAGE = "triage"  # matched nothing: a person attaches it to a claim
    INTAKE = "intake"  # a tenant wrote to the contact address: a new request to register
    DUPLICATE = "duplicate"  # same Message-ID as an earlier e-mail
    UNREADABLE = "unreadable"  # could not be parsed: kept as received, can be reprocessed


class InboundEmail(db.Model):
    """An e-mail posted by SendGrid Inbound Parse, kept exactly as received."""

    __tablename__ = "inbound_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The HTTP body and its Content-Type, byte for byte: parsing happens later, in a worker.
    content_type: Mapped[str] = mapped_column(sa.String(200))
    raw_post: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # Set when the retention rule deleted raw_post (left empty): it can no longer be
    # processed again.
    original_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[InboundStatus] = mapped_column(
        enum_column_type(InboundStatus, "inbound_status"),
        default=InboundStatus.RECEIVED,
        index=True,
    )
    message_id: Mapped[str | None] = mapped_column(sa.String(300), index=True)
    from_address: Mapped[str | None] = mapped_column(sa.String(254))
    subject: Mapped[str | None] = mapped_column(sa.String(300))
    # How it was matched: token, subject, thread, manual.
    matched_by: Mapped[str | None] = mapped_column(sa.String(20))
    work_order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("work_orders.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(sa.ForeignKey("claims.id"), index=True)
    tenant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tenants.id"))
    reply_kind: Mapped[str | None] = mapped_column(sa.String(30))
    reading: Mapped[dict | None] = mapped_column(sa.JSON)
    new_text: Mapped[str | None] = mapped_column(sa.Text)
    # Sanitised HTML, safe to display.
    html: Mapped[str | None] = mapped_column(sa.Text)
    error: Mapped[str | None] = mapped_column(sa.String(500))
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Attempts started (each processing job counts its own before it begins), and when the
    # next may start: after a failure's wait, or once a silent worker's lease has run out.
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    work_order: Mapped[WorkOrder | None] = relationship()
    attachments: Mapped[list[InboundAttachment]] = relationship(
        back_populates="email", order_by="InboundAttachment.id", cascade="all, delete-orphan"
    )


class InboundEmailKey(db.Model):
    """The claim an e-mail holds on its identity (normalised Message-ID, or a digest of its
    sender, date, subject and text when it has none): the database lets one e-mail hold a
    key, so copies processed at the same moment cannot both be applied.

    Written in the same transaction as what processing the e-mail does, with
    ``INSERT … ON CONFLICT DO NOTHING``: the copy whose insert loses is a duplicate.
    """

    __tablename__ = "inbound_email_keys"

    # A SHA-256 digest: fixed length whatever the sender wrote, and no address in the index.
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    email_id: Mapped[int] = mapped_column(
        sa.ForeignKey("inbound_emails.id", ondelete="CASCADE"), unique=True
    )


class InboundAttachment(db.Model):
    __tablename__ = "inbound_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_id: Mapped[int] = mapped_column(
        sa.ForeignKey("inbound_emails.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column()
    # None when refused (type or size): the refusal is recorded, the bytes are not kept.
    data: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    refused: Mapped[str | None] = mapped_column(sa.String(200))

    email: Mapped[InboundEmail] = relationship(back_populates="attachments")
