"""Received e-mail as kept: the post exactly as SendGrid sent it, what processing made of it,
its attachments and the key that makes a repeat impossible."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contractors.reading import ReplyKind
from grc.db import StrEnum, UTCDateTime, enum_column_type, utcnow
from grc.extensions import Model

if TYPE_CHECKING:
    from grc.claims.models import Claim
    from grc.contracts.models import WorkOrder
    from grc.people.models import Tenant


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


class MatchedBy(StrEnum):
    """How an inbound e-mail was tied to its claim."""

    TOKEN = "token"  # noqa: S105 (a name, not a secret): the signed reply address of an order
    SUBJECT = "subject"  # a claim reference in the subject
    THREAD = "thread"  # In-Reply-To / References naming a work-order e-mail
    MANUAL = "manual"  # a person attached it to a claim
    INTAKE = "intake"  # registered as a new claim


class InboundEmail(Model):
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
    matched_by: Mapped[MatchedBy | None] = mapped_column(
        enum_column_type(MatchedBy, "inbound_matched_by")
    )
    work_order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("work_orders.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(sa.ForeignKey("claims.id"), index=True)
    tenant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tenants.id"))
    reply_kind: Mapped[ReplyKind | None] = mapped_column(
        enum_column_type(ReplyKind, "inbound_reply_kind")
    )
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
    # Until when the job that claimed it holds it (``grc.worktable``): a received e-mail
    # past its lease is the sweeper's. Last handed over by the sweeper: ``handed_at``.
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    work_order: Mapped[WorkOrder | None] = relationship()
    claim: Mapped[Claim | None] = relationship(viewonly=True)
    # The tenant who wrote (an intake), when their address was found.
    tenant: Mapped[Tenant | None] = relationship(viewonly=True)
    attachments: Mapped[list[InboundAttachment]] = relationship(
        back_populates="email", order_by="InboundAttachment.id", cascade="all, delete-orphan"
    )


class InboundEmailKey(Model):
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


class InboundAttachment(Model):
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
