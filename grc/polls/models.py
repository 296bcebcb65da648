from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grc.db import StrEnum, UTCDateTime, enum_column_type, utcnow
from grc.extensions import Model


class Theme(StrEnum):
    """What a question is about; the change since the previous poll compares questions of
    the same theme ("other" is never compared)."""

    CLEANLINESS = "cleanliness"  # propreté des parties communes
    COLLECTIVE_EQUIPMENT = "collective_equipment"
    DWELLING_EQUIPMENT = "dwelling_equipment"
    TECHNICAL_REQUESTS = "technical_requests"
    INFORMATION = "information"
    OVERALL = "overall"
    OTHER = "other"


class PollStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # past its closing date: no answer taken any more


class RecipientChannel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    CALL = "call"  # neither mobile nor e-mail: on the agents' call list


class RecipientStatus(StrEnum):
    PENDING = "pending"  # drawn, not asked yet (quiet hours, the next run of the job)
    ASKED = "asked"  # the SMS question or the e-mail has left; the call list shows it
    ANSWERED = "answered"  # every question answered
    REFUSED = "refused"  # said no on the phone
    CLOSED = "closed"  # the poll closed before the tenant finished


class AnswerSource(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    CALL = "call"


class CallOutcome(StrEnum):
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    CALL_LATER = "call_later"
    REFUSED = "refused"


class Poll(Model):
    """A quality-of-service poll: one to eight questions asked of a random sample of
    tenants stratified by agency, open until ``closes_at``."""

    __tablename__ = "polls"
    __table_args__ = (sa.CheckConstraint("sample_size > 0", name="sample_size"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    # The quarter of the launch ("2026-Q4"): a tenant is asked once a quarter at most.
    quarter: Mapped[str] = mapped_column(sa.String(7), index=True)
    sample_size: Mapped[int]
    status: Mapped[PollStatus] = mapped_column(enum_column_type(PollStatus, "poll_status"))
    launched_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    launched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The tenants the sample was drawn from, per group, at launch: the N of the margin of
    # error's finite population correction. Keys "all", "agency:<id>", "residence:<id>",
    # "building:<id>".
    populations: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    questions: Mapped[list[PollQuestion]] = relationship(
        back_populates="poll", order_by="PollQuestion.position", passive_deletes="all"
    )


class PollQuestion(Model):
    __tablename__ = "poll_questions"
    __table_args__ = (
        sa.UniqueConstraint("poll_id", "position"),
        sa.CheckConstraint("position BETWEEN 1 AND 8", name="position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(sa.ForeignKey("polls.id"), index=True)
    position: Mapped[int]
    theme: Mapped[Theme] = mapped_column(enum_column_type(Theme, "poll_theme"))
    text_fr: Mapped[str] = mapped_column(sa.String(300))
    text_en: Mapped[str] = mapped_column(sa.String(300))

    poll: Mapped[Poll] = relationship(back_populates="questions")

    def text(self, locale: str | None) -> str:
        return self.text_en if locale == "en" else self.text_fr


class PollRecipient(Model):
    """A tenant drawn for a poll. ``(tenant_id, quarter)`` is unique: two polls launched at
    the same moment can never both take one tenant in a quarter. Where the tenant lives is
    kept as drawn, so that the results of a poll do not move when they do."""

    __tablename__ = "poll_recipients"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "quarter"),
        sa.CheckConstraint("next_position IS NULL OR next_position BETWEEN 1 AND 9", name="next"),
        sa.Index("ix_poll_recipients_status_channel", "status", "channel"),
        sa.Index("ix_poll_recipients_address_status", "address", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(sa.ForeignKey("polls.id"), index=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id"))
    quarter: Mapped[str] = mapped_column(sa.String(7))
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"))
    residence_id: Mapped[int] = mapped_column(sa.ForeignKey("residences.id"))
    building_id: Mapped[int] = mapped_column(sa.ForeignKey("buildings.id"))
    channel: Mapped[RecipientChannel] = mapped_column(
        enum_column_type(RecipientChannel, "poll_channel")
    )
    # The mobile number or e-mail address asked; for the call list, a number to call.
    address: Mapped[str | None] = mapped_column(sa.String(254))
    locale: Mapped[str] = mapped_column(sa.String(5), default="fr")
    status: Mapped[RecipientStatus] = mapped_column(
        enum_column_type(RecipientStatus, "poll_recipient_status")
    )
    # By SMS: the question waiting for its answer (past the last one: all answered).
    next_position: Mapped[int | None]
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the latest SMS of the poll left: an SMS answers the most recent question sent.
    last_sms_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clarification_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A second answer not understood, or a tenant to call: on the agents' call list.
    needs_person: Mapped[bool] = mapped_column(default=False)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The call list: the agent calling now (taken by a conditional UPDATE), the outcomes.
    taken_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    call_attempts: Mapped[int] = mapped_column(default=0)
    last_call_outcome: Mapped[CallOutcome | None] = mapped_column(
        enum_column_type(CallOutcome, "poll_call_outcome")
    )
    last_called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    poll: Mapped[Poll] = relationship()
    answers: Mapped[list[PollAnswer]] = relationship(
        back_populates="recipient", order_by="PollAnswer.id", passive_deletes="all"
    )


class PollAnswer(Model):
    """One answer to one question: ``(recipient_id, question_id)`` is unique, the first
    one counts (a repeated SMS, a page posted twice write nothing more)."""

    __tablename__ = "poll_answers"
    __table_args__ = (
        sa.UniqueConstraint("recipient_id", "question_id"),
        sa.CheckConstraint("value BETWEEN 1 AND 4", name="value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("poll_recipients.id"))
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("poll_questions.id"), index=True)
    value: Mapped[int]
    source: Mapped[AnswerSource] = mapped_column(enum_column_type(AnswerSource, "poll_source"))
    text: Mapped[str | None] = mapped_column(sa.String(500))
    inbound_sms_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inbound_sms.id"))
    agent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recipient: Mapped[PollRecipient] = relationship(back_populates="answers")


class PollOptOut(Model):
    """A tenant who asked not to be polled (kept apart from the channels' opt-outs: they
    may still want to hear about their claims)."""

    __tablename__ = "poll_opt_outs"

    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
