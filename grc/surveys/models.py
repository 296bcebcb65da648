from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grc.claims.models import Claim
from grc.contracts.models import Contractor
from grc.db import StrEnum, UTCDateTime, enum_column_type, utcnow
from grc.extensions import Model
from grc.messaging.models import MessageChannel
from grc.people.models import Tenant


class SurveyStatus(StrEnum):
    PLANNED = "planned"  # waiting for its time (the delay after the resolution, quiet hours)
    SENT = "sent"
    REMINDED = "reminded"  # sent, unanswered after a day, asked once more
    ANSWERED = "answered"
    EXPIRED = "expired"  # no answer within the survey's life
    CANCELLED = "cancelled"  # the claim was reopened or cancelled before it left


OPEN_SURVEY_STATUSES = (SurveyStatus.SENT, SurveyStatus.REMINDED)


class AnswerSource(StrEnum):
    SMS = "sms"
    EMAIL = "email"


class Survey(Model):
    """The hot satisfaction survey of one resolution of a claim: a claim reopened and
    resolved again gets a new one (``resolution_number`` counts the claim's resolutions).
    Surveys of one tenant sent together share ``group_id`` (the smallest id among them):
    one message names their claims and its answer applies to each."""

    __tablename__ = "surveys"
    __table_args__ = (
        sa.UniqueConstraint("claim_id", "resolution_number"),
        sa.CheckConstraint("score IS NULL OR (score BETWEEN 1 AND 5)", name="score"),
        sa.CheckConstraint("(status = 'answered') = (answered_at IS NOT NULL)", name="answered_at"),
        sa.CheckConstraint(
            "status IN ('planned', 'cancelled') OR sent_at IS NOT NULL", name="sent_at"
        ),
        sa.CheckConstraint("NOT not_done OR score IS NULL", name="not_done_no_score"),
        sa.Index("ix_surveys_status_planned_for", "status", "planned_for"),
        sa.Index("ix_surveys_recipient_status", "recipient", "status"),
        sa.Index("ix_surveys_tenant_status", "tenant_id", "status"),
        # The satisfaction report reads the answers of a period.
        sa.Index("ix_surveys_answered_at", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claims.id"), index=True)
    resolution_number: Mapped[int]
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id"))
    # Who did the work, when a contractor did: the answer counts for or against them.
    contractor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contractors.id"), index=True)
    channel: Mapped[MessageChannel] = mapped_column(
        enum_column_type(MessageChannel, "survey_channel")
    )
    # The mobile number or e-mail address it goes to, chosen at planning.
    recipient: Mapped[str] = mapped_column(sa.String(254))
    locale: Mapped[str] = mapped_column(sa.String(5), default="fr")
    status: Mapped[SurveyStatus] = mapped_column(enum_column_type(SurveyStatus, "survey_status"))
    group_id: Mapped[int | None] = mapped_column(index=True)
    planned_for: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[int | None]
    # The tenant says the work was not done: the claim was reopened, and it counts against
    # the contractor.
    not_done: Mapped[bool] = mapped_column(default=False)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    # The one clarification an answer not understood gets; a second one goes to a person.
    clarification_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    needs_person: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    claim: Mapped[Claim] = relationship()
    tenant: Mapped[Tenant] = relationship()
    contractor: Mapped[Contractor | None] = relationship()
    answers: Mapped[list[SurveyAnswer]] = relationship(
        back_populates="survey", order_by="SurveyAnswer.id", passive_deletes="all"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_SURVEY_STATUSES


class SurveyAnswer(Model):
    """Every answer received to a survey, as written and as read; the first one that gives
    a score (or says the work was not done) counts, a later one is only kept."""

    __tablename__ = "survey_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(sa.ForeignKey("surveys.id"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    # What the answer was read as: score, not_done, unclear, stop, start.
    reading: Mapped[str] = mapped_column(sa.String(20))
    score: Mapped[int | None]
    source: Mapped[AnswerSource] = mapped_column(enum_column_type(AnswerSource, "answer_source"))
    counted: Mapped[bool] = mapped_column(default=False)
    inbound_sms_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inbound_sms.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    survey: Mapped[Survey] = relationship(back_populates="answers")
