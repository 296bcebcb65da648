"""The hot satisfaction surveys of the demo's year of claims, and the contractors' ratings
computed from it.

The product plans each survey itself when a claim is resolved (``create_claim`` and
``transition_claim`` call its hook); what the survey job and the tenants would have done
next is written here, right after each resolution of the history: sent when it was planned
for (the product already put that after the delay and outside quiet hours), reminded a day
later when still unanswered, expired after its life, or answered. Answers go through the
product's own answer operations (by SMS or by the e-mail's link), so each is kept as written
and as read, is on the claim's timeline, and a "pas fait" reopens the claim and sends its
contractor a new work order, exactly as a real answer would. The send and the reminder
messages themselves are not written: the history's messages are not what the demo shows.

Surveys planned for today or later stay planned, and those sent in the last days and not
answered yet stay open: the screens show live surveys.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contractors.rating import GroupKind, Period, PeriodKind, period_containing
from grc.claims.models import Claim, ClaimEvent, EventKind, Visibility
from grc.contracts.models import Contractor
from grc.db import insert_many
from grc.demo.reference import SURVEY_ANSWERS, SURVEY_COMMENTS, ContractorBehaviour
from grc.messaging.models import MessageChannel
from grc.ratings.models import ContractorRating
from grc.ratings.operations import compute_period
from grc.surveys.answers import (
    AnswerOutcome,
    apply_link_answer,
    apply_sms_answer,
    read_answer,
)
from grc.surveys.models import AnswerSource, Survey, SurveyAnswer, SurveyStatus
from grc.surveys.operations import REMINDER_AFTER, SURVEY_LIFE

# Tenants answer a text more readily than an e-mail.
ANSWER_SHARE = {MessageChannel.SMS: 0.45, MessageChannel.EMAIL: 0.32}
# Of those who answer, most do so within the first day, the others after the reminder.
ANSWER_BEFORE_REMINDER = 0.75
# A claim handled by the landlord's own staff (no contractor).
STAFF_SATISFACTION = 3.9
STAFF_NOT_DONE = 0.02
# How far a tenant's score strays from the contractor's usual (a normal spread, rounded).
SCORE_SPREAD = 0.7


class SurveyHistory:
    """Settles the survey of each resolution of the history, as the claims are played.

    Each survey moves by one UPDATE when its resolution is played (a reopening later in the
    claim's story must find it sent, not planned). A score's answer row and timeline line
    are the product's own (see ``grc.surveys.answers``) but written in bulk with the batch,
    by :meth:`write`: through the answer operation, one by one, they cost more than the
    rest of the surveys. A "pas fait" goes through the operation itself: it reopens the
    claim and sends a new work order.
    """

    def __init__(self, session: Session, rng: random.Random, anchor: datetime) -> None:
        self.session, self.rng, self.anchor = session, rng, anchor
        self.reopened = 0
        self._answers: list[dict[str, Any]] = []
        self._events: list[dict[str, Any]] = []

    def settle(
        self,
        claim: Claim,
        behaviour: ContractorBehaviour | None,
        *,
        may_reopen: bool = True,
    ) -> datetime | None:
        """Play the survey of the claim's latest resolution; the moment its answer reopened
        the claim ("pas fait"), else None."""
        session, rng = self.session, self.rng
        found = session.execute(
            sa.select(Survey.id, Survey.planned_for, Survey.channel)
            .where(Survey.claim_id == claim.id, Survey.status == SurveyStatus.PLANNED)
            .order_by(Survey.id.desc())
            .limit(1)
        ).first()
        if found is None or found.planned_for >= self.anchor:
            return None  # no survey (a letter, nobody to ask), or it leaves today
        survey_id, sent, channel = found
        values: dict[str, Any] = {
            "status": SurveyStatus.SENT,
            "sent_at": sent,
            "group_id": survey_id,
            "expires_at": sent + SURVEY_LIFE,
        }
        answered_at: datetime | None = None
        if rng.random() < ANSWER_SHARE.get(channel, 0.3):
            if rng.random() < ANSWER_BEFORE_REMINDER:
                answered_at = sent + timedelta(minutes=rng.lognormvariate(3.7, 1.0))
                answered_at = min(answered_at, sent + REMINDER_AFTER - timedelta(minutes=1))
            else:
                answered_at = sent + REMINDER_AFTER + timedelta(minutes=rng.randint(5, 4000))
        reminder = sent + REMINDER_AFTER
        if (answered_at is None or answered_at > reminder) and reminder < self.anchor:
            values.update(status=SurveyStatus.REMINDED, reminded_at=reminder)
        if answered_at is None or answered_at >= self.anchor:
            if values["expires_at"] <= self.anchor:
                values["status"] = SurveyStatus.EXPIRED
            self._update(survey_id, values)
            return None

        satisfaction = behaviour.satisfaction if behaviour else STAFF_SATISFACTION
        not_done_share = behaviour.not_done if behaviour else STAFF_NOT_DONE
        if may_reopen and rng.random() < not_done_share:
            return self._not_done(claim, survey_id, channel, values, answered_at)
        score = min(5, max(1, round(rng.gauss(satisfaction, SCORE_SPREAD))))
        comment: str | None
        if channel == MessageChannel.SMS:
            source, text = AnswerSource.SMS, rng.choice(SURVEY_ANSWERS[str(score)])
            comment = read_answer(text).comment or None
        else:  # the e-mail's link, with a comment now and then (the answer page's words)
            source = AnswerSource.EMAIL
            comment = rng.choice(SURVEY_COMMENTS[str(score)]) if rng.random() < 0.3 else None
            text = f"{score}/5" + (f" — {comment}" if comment else "")
        values.update(
            status=SurveyStatus.ANSWERED, answered_at=answered_at, score=score, comment=comment
        )
        self._update(survey_id, values)
        self._answers.append(
            {
                "survey_id": survey_id,
                "text": text,
                "reading": "score",
                "score": score,
                "source": source,
                "counted": True,
                "inbound_sms_id": None,
                "received_at": answered_at,
            }
        )
        self._events.append(
            {
                "claim_id": claim.id,
                "kind": EventKind.MESSAGE,
                "action": None,
                "from_status": None,
                "to_status": None,
                "visibility": Visibility.TENANT,
                "body": f"Réponse à l'enquête de satisfaction : « {text} » (note {score}/5).",
                "changes": {
                    "channel": str(source),
                    "direction": "in",
                    "survey_id": survey_id,
                    "score": score,
                    "not_done": False,
                    "counted": True,
                },
                "actor_id": None,
                "created_at": answered_at,
            }
        )
        return None

    def _not_done(
        self,
        claim: Claim,
        survey_id: int,
        channel: MessageChannel,
        values: dict[str, Any],
        answered_at: datetime,
    ) -> datetime | None:
        """The tenant answers that the work was not done, through the product's operation."""
        session, rng = self.session, self.rng
        self._update(survey_id, values)
        outcome: AnswerOutcome | None
        if channel == MessageChannel.SMS:
            text = rng.choice(SURVEY_ANSWERS["not_done"])
            survey = session.get_one(Survey, survey_id)
            outcome = apply_sms_answer(session, survey, text, read_answer(text), answered_at)
        else:
            comment = rng.choice(SURVEY_COMMENTS["not_done"])
            outcome = apply_link_answer(session, survey_id, 1, True, comment, answered_at)
        if outcome is None or not outcome.reopened:
            return None
        self.reopened += outcome.reopened
        return answered_at

    def _update(self, survey_id: int, values: dict[str, Any]) -> None:
        self.session.execute(
            sa.update(Survey)
            .where(Survey.id == survey_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    def write(self) -> None:
        """The batch's answers and their timeline lines, in two statements."""
        if self._answers:
            insert_many(self.session, _table(SurveyAnswer), self._answers)
            insert_many(self.session, _table(ClaimEvent), self._events)
        self._answers, self._events = [], []


def _table(model: type[Any]) -> sa.Table:
    return cast("sa.Table", model.__table__)  # a mapped class's Table


def survey_summary(session: Session, reopened: int) -> str:
    counts: Counter[str] = Counter(
        {
            str(status): count
            for status, count in session.execute(
                sa.select(Survey.status, sa.func.count()).group_by(Survey.status)
            ).all()
        }
    )
    by_source: Counter[str] = Counter(
        {
            str(source): count
            for source, count in session.execute(
                sa.select(SurveyAnswer.source, sa.func.count())
                .where(SurveyAnswer.counted)
                .group_by(SurveyAnswer.source)
            ).all()
        }
    )
    sent = sum(counts[s] for s in ("sent", "reminded", "answered", "expired"))
    answered = counts["answered"]
    return (
        f"Surveys: {sent:,} sent after a resolution, {answered:,} answered "
        f"({answered / max(1, sent):.0%}; {by_source[AnswerSource.SMS]:,} by SMS, "
        f"{by_source[AnswerSource.EMAIL]:,} by e-mail), {reopened:,} claims reopened on a "
        f"'pas fait', {counts['expired']:,} expired; {counts['sent'] + counts['reminded']:,} "
        f"open and {counts['planned']:,} planned now."
    )


def demo_periods(anchor: datetime, tz: ZoneInfo) -> list[Period]:
    """Every month and quarter the demo's year touches, oldest first."""
    first = anchor - timedelta(days=366)
    last = anchor - timedelta(seconds=1)
    periods: list[Period] = []
    for kind in (PeriodKind.MONTH, PeriodKind.QUARTER):
        period = period_containing(last, kind, tz=tz)
        stop = period_containing(first, kind, tz=tz)
        found = [period]
        while period != stop:
            period = period.previous()
            found.append(period)
        periods += reversed(found)
    return periods


def load_ratings(session: Session, anchor: datetime, tz: ZoneInfo) -> list[str]:
    """Compute every month and quarter of the demo's year with the product's own
    computation, as the daily job would have; the summary: each contractor's grade of the
    last two quarters."""
    periods = demo_periods(anchor, tz)
    for period in periods:
        compute_period(session, period, anchor)
    session.commit()
    quarters = [p for p in periods if p.kind == PeriodKind.QUARTER][-2:]
    rows = session.execute(
        sa.select(Contractor.name, ContractorRating)
        .join(ContractorRating, ContractorRating.contractor_id == Contractor.id)
        .where(
            ContractorRating.period.in_([q.label for q in quarters]),
            ContractorRating.group_kind == GroupKind.OVERALL,
        )
        .order_by(Contractor.name, ContractorRating.period)
    ).all()
    grades: dict[str, list[str]] = {}
    for name, rating in rows:
        word = (
            f"{rating.grade} ({rating.score:.0f})"
            if rating.grade is not None and rating.score is not None
            else f"not enough answers ({rating.answers})"
        )
        grades.setdefault(name, []).append(f"{rating.period} {word}")
    months = sum(p.kind == PeriodKind.MONTH for p in periods)
    return [
        f"Ratings: computed for {months} months and {len(periods) - months} quarters; "
        "grades of the last two quarters:",
        *(f"  {name}: {', '.join(words)}" for name, words in grades.items()),
    ]
