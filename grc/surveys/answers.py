"""Answers to a survey, by SMS (``grc.messaging.inbound_sms`` hands them over) or by the
e-mail's signed link: each kept, the first that gives a score (or says the work was not
done) counting for every survey its message asked about.

- a score: the surveys are answered;
- "not done": the surveys are answered as not done (it counts against the contractor), the
  claim is reopened by GRC, its unit is e-mailed and its contractor gets a new work order;
- not understood: one polite clarification SMS per survey; a second one goes to a person
  (the survey is flagged on the claim page, and the timeline says so). Never a loop of texts.

Every answer is on the claim's timeline. The functions flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from contractors.survey_answers import AnswerKind, SurveyReading, read_survey_answer
from grc.claims import operations as claim_operations
from grc.claims import timeline
from grc.claims.lifecycle import Action
from grc.claims.models import Claim, ClaimStatus, EventKind, RouteKind, Visibility
from grc.claims.notify import StaffRecipients
from grc.clock import settings
from grc.contracts import work_orders
from grc.db import among_ids, insert_returning, rows_changed
from grc.messaging.models import MessageChannel, Purpose
from grc.messaging.operations import NewMessage, queue_message
from grc.messaging.rendering import render_email, render_sms
from grc.surveys.models import (
    OPEN_SURVEY_STATUSES,
    AnswerSource,
    Survey,
    SurveyAnswer,
    SurveyStatus,
)
from grc.surveys.operations import surveys_of_group

# What an answer is kept as, at most (an SMS of two segments is far shorter).
MAX_ANSWER = 2000
_ANSWERING = (*OPEN_SURVEY_STATUSES, SurveyStatus.ANSWERED)


def read_answer(text: str) -> SurveyReading:
    return read_survey_answer(text)


def survey_for_number(session: Session, number: str, now: datetime) -> Survey | None:
    """The survey an SMS from ``number`` answers: the latest one sent to it and not yet
    expired (answered ones too, so a later answer is kept); None if there is none."""
    return session.execute(_SURVEY_FOR_NUMBER, {"number": number, "now": now}).scalar_one_or_none()


# Built once: every inbound SMS asks, and SQLAlchemy then finds the statement's cache key
# and compiled form on the object instead of building them again.
_SURVEY_FOR_NUMBER = (
    sa.select(Survey)
    .where(
        Survey.recipient == sa.bindparam("number"),
        Survey.channel == MessageChannel.SMS,
        Survey.status.in_(_ANSWERING),
        Survey.expires_at > sa.bindparam("now"),
    )
    .order_by(Survey.sent_at.desc(), Survey.id.desc())
    .limit(1)
    # Its claim takes the answer's timeline event: read with it, not after.
    .options(joinedload(Survey.claim))
)


def takes_sms(survey: Survey, reading: SurveyReading) -> bool:
    """Whether the survey takes this SMS as its answer: always while it is open; once
    answered, only another score or "not done" (kept, not counted); anything else is an
    ordinary message about the claim."""
    return survey.is_open or reading.kind in (AnswerKind.SCORE, AnswerKind.NOT_DONE)


@dataclass(frozen=True)
class AnswerOutcome:
    counted: bool
    kind: str  # score, not_done, unclear, …
    clarification_sent: bool = False
    to_a_person: bool = False
    reopened: int = 0


def apply_sms_answer(
    session: Session,
    survey: Survey,
    text: str,
    reading: SurveyReading,
    now: datetime,
    *,
    inbound_sms_id: int | None = None,
) -> AnswerOutcome:
    """Apply an SMS answer to ``survey`` and the others its message asked about."""
    group = _with_group(session, survey)
    kind = reading.kind
    if kind == AnswerKind.SCORE and reading.score is not None:
        return _record(
            session, group, text, reading, now, AnswerSource.SMS, inbound_sms_id, not_done=False
        )
    if kind == AnswerKind.NOT_DONE:
        return _record(
            session, group, text, reading, now, AnswerSource.SMS, inbound_sms_id, not_done=True
        )
    return _unclear(session, group, text, reading, now, inbound_sms_id)


def _with_group(session: Session, survey: Survey) -> list[Survey]:
    """``survey`` and the others its message asked about (most messages ask about one), by
    id, with their claims; what the answer needs of them and no more."""
    group_id = survey.group_id or survey.id
    # Their ids first: usually none, and then nothing more is read.
    other_ids = list(
        session.execute(_OTHERS_OF_GROUP, {"group_id": group_id, "id": survey.id}).scalars()
    )
    if not other_ids:
        return [survey]
    others = session.execute(
        sa.select(Survey)
        .where(among_ids(session, Survey.id, other_ids))
        .options(joinedload(Survey.claim))
    ).scalars()
    return sorted([survey, *others], key=lambda s: s.id)


_OTHERS_OF_GROUP = sa.select(Survey.id).where(
    sa.or_(Survey.group_id == sa.bindparam("group_id"), Survey.id == sa.bindparam("group_id")),
    Survey.id != sa.bindparam("id"),
)


def apply_link_answer(
    session: Session,
    group_id: int,
    score: int,
    not_done: bool,
    comment: str | None,
    now: datetime,
) -> AnswerOutcome | None:
    """An answer by the e-mail's link: ``score`` (or "not done") with an optional comment;
    None if the surveys are unknown or expired."""
    group = surveys_of_group(session, group_id)
    if not group or not any(_answerable(s, now) for s in group):
        return None
    comment = (comment or "").strip()[:MAX_ANSWER] or None
    words = "pas fait" if not_done else f"{score}/5"
    text = words + (f" — {comment}" if comment else "")
    reading = _LinkReading(score=None if not_done else score, comment=comment)
    return _record(session, group, text, reading, now, AnswerSource.EMAIL, None, not_done=not_done)


def _answerable(survey: Survey, now: datetime) -> bool:
    return survey.status in _ANSWERING and (
        survey.expires_at is not None and survey.expires_at > now
    )


@dataclass(frozen=True)
class _LinkReading:
    score: int | None
    comment: str | None


def _record(
    session: Session,
    group: list[Survey],
    text: str,
    reading: SurveyReading | _LinkReading,
    now: datetime,
    source: AnswerSource,
    inbound_sms_id: int | None,
    *,
    not_done: bool,
) -> AnswerOutcome:
    """The first answer of each open survey counts (one conditional UPDATE: two answers at
    once count once); an answer to a survey answered already is kept only."""
    score = None if not_done else reading.score
    comment = reading.comment or None
    open_ids = [s.id for s in group if s.is_open]
    counted_ids: set[int] = set()
    if open_ids:
        result = session.execute(
            _ANSWERED,
            {
                "ids": open_ids,
                "new_status": SurveyStatus.ANSWERED,
                "at": now,
                "new_score": score,
                "is_not_done": not_done,
                "new_comment": comment,
            },
        )
        counted_ids = set(result.scalars())
    reading_word = "not_done" if not_done else "score"
    reopened = 0
    for survey in group:
        counted = survey.id in counted_ids
        if counted:
            # What the UPDATE wrote, known without a flush writing it once more.
            for name, value in (
                ("status", SurveyStatus.ANSWERED),
                ("answered_at", now),
                ("score", score),
                ("not_done", not_done),
                ("comment", comment),
            ):
                set_committed_value(survey, name, value)
        _keep(session, survey, text, reading_word, score, source, counted, inbound_sms_id, now)
        _on_timeline(
            session, survey, text, now, source, counted=counted, not_done=not_done, score=score
        )
        if counted and not_done:
            reopened += _reopen(session, survey, text, now)
    session.flush()
    return AnswerOutcome(counted=bool(counted_ids), kind=reading_word, reopened=reopened)


_SURVEYS = cast("sa.Table", Survey.__table__)  # a mapped class's Table
# The first answer of the open surveys of a message (a handful of ids): built once, as a
# plain UPDATE of the table (the objects are set from what it wrote).
_ANSWERED = (
    sa.update(_SURVEYS)
    .where(
        _SURVEYS.c.id.in_(sa.bindparam("ids", expanding=True)),
        _SURVEYS.c.status.in_(OPEN_SURVEY_STATUSES),
        _SURVEYS.c.answered_at.is_(None),
    )
    .values(
        status=sa.bindparam("new_status", type_=_SURVEYS.c.status.type),
        answered_at=sa.bindparam("at", type_=_SURVEYS.c.answered_at.type),
        score=sa.bindparam("new_score", type_=_SURVEYS.c.score.type),
        not_done=sa.bindparam("is_not_done", type_=_SURVEYS.c.not_done.type),
        comment=sa.bindparam("new_comment", type_=_SURVEYS.c.comment.type),
    )
    .returning(_SURVEYS.c.id)
)


def _unclear(
    session: Session,
    group: list[Survey],
    text: str,
    reading: SurveyReading,
    now: datetime,
    inbound_sms_id: int | None,
) -> AnswerOutcome:
    first = group[0] if group else None
    word = reading.kind.name.lower()
    clarified = False
    if first is not None and first.is_open and first.clarification_sent_at is None:
        # One clarification per survey, claimed by a conditional UPDATE.
        result = session.execute(
            sa.update(Survey)
            .where(
                among_ids(session, Survey.id, [s.id for s in group]),
                Survey.clarification_sent_at.is_(None),
            )
            .values(clarification_sent_at=now)
            .execution_options(synchronize_session=False)
        )
        clarified = rows_changed(result) > 0
    to_person = not clarified and any(s.is_open for s in group)
    for survey in group:
        if clarified:
            survey.clarification_sent_at = now
        if to_person and survey.is_open:
            survey.needs_person = True
        _keep(session, survey, text, word, None, AnswerSource.SMS, False, inbound_sms_id, now)
        if to_person:
            note = "Réponse non comprise, pour la deuxième fois : à traiter par l'unité"
        elif clarified:
            note = "Réponse non comprise : une demande de précision est envoyée"
        else:
            note = "Réponse non comprise, gardée"
        timeline.add_event(
            session,
            survey.claim,
            EventKind.MESSAGE,
            now,
            visibility=Visibility.TENANT,
            body=f"Réponse à l'enquête de satisfaction : « {text} » ({note}).",
            changes={
                "channel": "sms",
                "direction": "in",
                "survey_id": survey.id,
                "reading": word,
                "needs_person": to_person,
                **({"inbound_sms_id": inbound_sms_id} if inbound_sms_id else {}),
            },
        )
    if clarified and first is not None:
        _clarify(session, group, now)
    session.flush()
    return AnswerOutcome(
        counted=False, kind=word, clarification_sent=clarified, to_a_person=to_person
    )


def _clarify(session: Session, group: list[Survey], now: datetime) -> None:
    first = group[0]
    text = render_sms(Purpose.SURVEY_CLARIFICATION, first.locale, landlord=settings().landlord_name)
    message = queue_message(
        session,
        NewMessage(
            idempotency_key=f"survey_clarification:{first.group_id or first.id}",
            channel=MessageChannel.SMS,
            purpose=Purpose.SURVEY_CLARIFICATION,
            recipient=first.recipient,
            body_text=text,
            claim_id=first.claim_id,
            locale=first.locale,
            available_at=now,
        ),
        now,
    )
    if message is None:
        return
    for survey in group:
        timeline.add_event(
            session,
            survey.claim,
            EventKind.MESSAGE,
            now,
            visibility=Visibility.TENANT,
            body=text,
            changes={
                "outbox_id": message.id,
                "channel": "sms",
                "purpose": str(Purpose.SURVEY_CLARIFICATION),
                "survey_id": survey.id,
            },
        )


def _keep(
    session: Session,
    survey: Survey,
    text: str,
    reading: str,
    score: int | None,
    source: AnswerSource,
    counted: bool,
    inbound_sms_id: int | None,
    now: datetime,
) -> None:
    insert_returning(
        session,
        SurveyAnswer,
        {
            "survey_id": survey.id,
            "text": text[:MAX_ANSWER],
            "reading": reading,
            "score": score,
            "source": source,
            "counted": counted,
            "inbound_sms_id": inbound_sms_id,
            "received_at": now,
        },
        {"survey": survey},
    )


def _on_timeline(
    session: Session,
    survey: Survey,
    text: str,
    now: datetime,
    source: AnswerSource,
    *,
    counted: bool,
    not_done: bool,
    score: int | None,
) -> None:
    what = "travaux non faits selon le locataire" if not_done else f"note {score}/5"
    if not counted:
        what += ", réponse ultérieure gardée sans être comptée"
    timeline.add_event(
        session,
        survey.claim,
        EventKind.MESSAGE,
        now,
        visibility=Visibility.TENANT,
        body=f"Réponse à l'enquête de satisfaction : « {text} » ({what}).",
        changes={
            "channel": str(source),
            "direction": "in",
            "survey_id": survey.id,
            "score": score,
            "not_done": not_done,
            "counted": counted,
        },
    )


def _reopen(session: Session, survey: Survey, text: str, now: datetime) -> int:
    """The tenant says the work was not done: GRC reopens the claim, tells its unit and
    sends its contractor a new work order (same subject: the same thread in a mailbox).
    A claim no longer resolved (closed, reopened already) goes to a person instead."""
    claim = survey.claim
    if claim.status != ClaimStatus.RESOLVED:
        survey.needs_person = True
        session.execute(
            sa.update(Survey)
            .where(Survey.id == survey.id)
            .values(needs_person=True)
            .execution_options(synchronize_session=False)
        )
        return 0
    claim_operations.transition_claim(
        session,
        claim,
        claim_operations.TransitionRequest(
            Action.REOPEN,
            comment=f"Rouverte : le locataire répond à l'enquête de satisfaction « {text} ».",
        ),
        None,
        now,
        system=True,
    )
    order = None
    if claim.route_kind == RouteKind.CONTRACTOR and claim.contract is not None:
        order = work_orders.open_work_order(session, claim, now)
    _tell_unit(session, claim, survey, text, order is not None, now)
    return 1


def _tell_unit(
    session: Session, claim: Claim, survey: Survey, text: str, contractor_told: bool, now: datetime
) -> None:
    public = settings().public_url
    email = render_email(
        Purpose.SURVEY_NOT_DONE,
        "fr",
        reference=claim.reference,
        category=claim.category.label("fr"),
        address=claim.building.short_address,
        answer=text,
        contractor=claim.contractor.name if contractor_told and claim.contractor else None,
        claim_url=f"{public}/claims/{claim.reference}" if public else None,
    )
    for address in sorted(set(StaffRecipients(session).of_unit(claim.unit_id))):
        queue_message(
            session,
            NewMessage(
                idempotency_key=f"survey_not_done:{survey.id}:{address}",
                channel=MessageChannel.EMAIL,
                purpose=Purpose.SURVEY_NOT_DONE,
                recipient=address,
                subject=email.subject,
                body_text=email.text,
                body_html=email.html,
                claim_id=claim.id,
            ),
            now,
        )
