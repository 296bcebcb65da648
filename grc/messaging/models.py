from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grc.claims.models import Claim
from grc.db import UTCDateTime, enum_column_type, utcnow
from grc.extensions import Model


class MessageChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class Purpose(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"
    SCHEDULED = "scheduled"
    RESOLVED = "resolved"
    QUESTION = "question"
    SLA_WARNING = "sla_warning"
    SLA_BREACH = "sla_breach"
    ON_CALL_ALERT = "on_call_alert"
    WORK_ORDER = "work_order"
    WORK_ORDER_REMINDER = "work_order_reminder"
    WORK_ORDER_ESCALATION = "work_order_escalation"
    INVITATION = "invitation"  # a staff member's link to choose a password
    SURVEY = "survey"  # the hot satisfaction survey after a resolution
    SURVEY_REMINDER = "survey_reminder"
    SURVEY_CLARIFICATION = "survey_clarification"  # the one reply to an answer not understood
    SURVEY_NOT_DONE = "survey_not_done"  # to the unit: the tenant says the work was not done
    POLL_QUESTION = "poll_question"  # a quality-of-service poll's question by SMS
    POLL_CLARIFICATION = "poll_clarification"  # the one reply to a poll answer not understood
    POLL_THANKS = "poll_thanks"
    POLL_INVITATION = "poll_invitation"  # the e-mail with the link to the poll's page
    WEEKLY_DIGEST = "weekly_digest"  # to managers: the week's key figures (grc.exports.digest)


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # written, waiting for (or between) delivery attempts
    SENDING = "sending"  # claimed by a worker; the provider is being called
    SENT = "sent"  # accepted by the provider
    DELIVERED = "delivered"  # the provider confirmed delivery
    FAILED = "failed"  # permanent error or retries exhausted: visible to admins
    NEEDS_CHECK = "needs_check"  # outcome unknown (SMS timeout): a person decides
    # Withdrawn before it left: what it said no longer holds (a question to a tenant whose
    # claim was resumed meanwhile).
    CANCELLED = "cancelled"


FINAL_STATUSES = (
    DeliveryStatus.SENT,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.FAILED,
    DeliveryStatus.NEEDS_CHECK,
    DeliveryStatus.CANCELLED,
)


class OutboxMessage(Model):
    """One message to send, and the record of its delivery."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        sa.CheckConstraint(
            "status NOT IN ('sent', 'delivered') OR provider_id IS NOT NULL", name="sent_has_id"
        ),
        sa.CheckConstraint("attempts >= 0", name="attempts"),
        sa.Index("ix_outbox_messages_status_available_at", "status", "available_at"),
        sa.Index("ix_outbox_messages_provider_id", "provider", "provider_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What makes this message unique (claim, purpose, deadline…): writing it twice is a no-op.
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    channel: Mapped[MessageChannel] = mapped_column(
        enum_column_type(MessageChannel, "outbox_channel")
    )
    purpose: Mapped[Purpose] = mapped_column(enum_column_type(Purpose, "outbox_purpose"))
    claim_id: Mapped[int | None] = mapped_column(sa.ForeignKey("claims.id"), index=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    locale: Mapped[str] = mapped_column(sa.String(5), default="fr")
    subject: Mapped[str | None] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    # Work orders: replies go to the order's own signed address.
    reply_to: Mapped[str | None] = mapped_column(sa.String(254))
    urgent: Mapped[bool] = mapped_column(default=False)

    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column_type(DeliveryStatus, "outbox_status"), default=DeliveryStatus.PENDING
    )
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    # Last handed over by the sweeper (``grc.worktable.sweep``).
    handed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a worker took it (``sending``), and until when that worker holds it: past its
    # lease the sweeper takes it back.
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Committed just before the provider call of the current attempt: a worker killed
    # before it never handed the message to the provider, so it may simply be sent again.
    call_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    provider: Mapped[str | None] = mapped_column(sa.String(20))
    provider_id: Mapped[str | None] = mapped_column(sa.String(100))
    provider_status: Mapped[str | None] = mapped_column(sa.String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    claim: Mapped[Claim | None] = relationship()

    @property
    def message_key(self) -> str:
        """Sent with the message so a duplicate delivery can be recognised."""
        return f"grc-outbox-{self.id}"


class InboundSmsOutcome(StrEnum):
    OPTED_OUT = "opted_out"  # STOP: no more SMS to the tenants with this number
    OPTED_IN = "opted_in"  # START undoes it
    FILED = "filed"  # on the timeline of the sender's latest open claim
    UNKNOWN_SENDER = "unknown_sender"  # no tenant has this number
    NO_OPEN_CLAIM = "no_open_claim"  # the tenant has nothing open to file it on
    SURVEY_ANSWER = "survey_answer"  # an answer to the sender's open satisfaction survey
    POLL_ANSWER = "poll_answer"  # an answer to the poll question the sender was last asked


class InboundSms(Model):
    """An SMS a tenant sent us, kept once per Twilio ``MessageSid``: the unique key makes a
    repeated webhook (Twilio retries, the same post twice at once) change nothing."""

    __tablename__ = "inbound_sms"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    from_number: Mapped[str] = mapped_column(sa.String(32))
    body: Mapped[str] = mapped_column(sa.Text)
    outcome: Mapped[InboundSmsOutcome] = mapped_column(
        enum_column_type(InboundSmsOutcome, "inbound_sms_outcome")
    )
    claim_id: Mapped[int | None] = mapped_column(sa.ForeignKey("claims.id"), index=True)
