"""Sending the surveys: the planned ones when their time comes (one message per tenant for
the claims resolved the same day), a reminder a day later, expiry after a week; and the
signed one-click links of the e-mail. Every function flushes and never commits; the caller
(the cron job, the command, the view) owns the transaction.

A message is an outbox row keyed by the ids of the surveys it asks about: a run repeated
(a job retried, the command run by hand at the same time) writes nothing twice; each survey
moves by a conditional UPDATE, so two runs never both send it.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session, joinedload, selectinload

from grc.claims import timeline
from grc.claims.models import Claim, ClaimStatus, EventKind, Visibility
from grc.claims.notify import local_datetime_text
from grc.clock import settings
from grc.db import among_ids, rows_changed
from grc.messaging.models import MessageChannel, Purpose
from grc.messaging.operations import NewMessage, after_quiet_hours, queue_message
from grc.messaging.rendering import render_email, render_sms
from grc.surveys.models import OPEN_SURVEY_STATUSES, Survey, SurveyStatus

REMINDER_AFTER = timedelta(hours=24)
SURVEY_LIFE = timedelta(days=7)
# A planned survey not sent within this delay after its time is withdrawn, not sent late.
TOO_LATE = timedelta(days=1)
# The claims one message names at most (a tenant with more gets more than one message).
MAX_CLAIMS_PER_MESSAGE = 5
SCORES = (1, 2, 3, 4, 5)
_LINK_SALT = "grc-survey-answer"


@dataclass(frozen=True)
class SurveyRun:
    sent: int = 0  # surveys sent (a message may ask about several)
    messages: int = 0
    reminded: int = 0
    expired: int = 0
    cancelled: int = 0

    def __str__(self) -> str:
        return (
            f"sent={self.sent} messages={self.messages} reminded={self.reminded} "
            f"expired={self.expired} cancelled={self.cancelled}"
        )


def send_due_surveys(session: Session, now: datetime) -> SurveyRun:
    """One run of the survey job: expire, send what is due, remind. Nothing leaves during
    quiet hours (a run then only expires)."""
    expired = _expire(session, now)
    config = settings()
    if after_quiet_hours(now, config.quiet_hours, config.tz) != now:
        return SurveyRun(expired=expired)
    sent, messages, cancelled = _send_planned(session, now)
    reminded = _remind(session, now)
    session.flush()
    return SurveyRun(sent, messages, reminded, expired, cancelled)


_LOADED = (
    joinedload(Survey.claim).options(joinedload(Claim.contractor)),
    joinedload(Survey.contractor),
    joinedload(Survey.tenant),
)


def _expire(session: Session, now: datetime) -> int:
    """Surveys unanswered for their whole life expire; a planned one that could not leave
    within a day (the job stopped, a history loaded) is no longer "hot" and is withdrawn."""
    result = session.execute(
        sa.update(Survey)
        .where(Survey.status.in_(OPEN_SURVEY_STATUSES), Survey.expires_at <= now)
        .values(status=SurveyStatus.EXPIRED)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        sa.update(Survey)
        .where(Survey.status == SurveyStatus.PLANNED, Survey.planned_for <= now - TOO_LATE)
        .values(status=SurveyStatus.CANCELLED, cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result)


def _send_planned(session: Session, now: datetime) -> tuple[int, int, int]:
    due = list(
        session.execute(
            sa.select(Survey)
            .where(Survey.status == SurveyStatus.PLANNED, Survey.planned_for <= now)
            .options(*_LOADED)
            .order_by(Survey.id)
        )
        .unique()
        .scalars()
    )
    if not due:
        return 0, 0, 0
    # A resolution that no longer holds (should the claim have moved without a reopening).
    stale = [s for s in due if s.claim.status not in (ClaimStatus.RESOLVED, ClaimStatus.CLOSED)]
    cancelled = _move(
        session, stale, SurveyStatus.PLANNED, status=SurveyStatus.CANCELLED, cancelled_at=now
    )
    due = [s for s in due if s not in stale]
    # The tenant's other surveys of the same day go with them, even if not yet due: one
    # message for the claims resolved that day.
    tz = settings().tz
    days: dict[tuple[int, str], set[date]] = defaultdict(set)
    for survey in due:
        days[(survey.tenant_id, survey.recipient)].add(survey.created_at.astimezone(tz).date())
    along = (
        session.execute(
            sa.select(Survey)
            .where(
                Survey.status == SurveyStatus.PLANNED,
                Survey.planned_for > now,
                Survey.tenant_id.in_(sorted({tenant for tenant, _ in days})),
            )
            .options(*_LOADED)
        )
        .unique()
        .scalars()
    )
    due += [
        s
        for s in along
        if s.claim.status in (ClaimStatus.RESOLVED, ClaimStatus.CLOSED)
        and s.created_at.astimezone(tz).date() in days.get((s.tenant_id, s.recipient), set())
    ]
    groups: dict[tuple[int, str, str], list[Survey]] = defaultdict(list)
    for survey in sorted(due, key=lambda s: s.id):
        groups[(survey.tenant_id, str(survey.channel), survey.recipient)].append(survey)
    sent = messages = 0
    for members in groups.values():
        for start in range(0, len(members), MAX_CLAIMS_PER_MESSAGE):
            chunk = members[start : start + MAX_CLAIMS_PER_MESSAGE]
            group_id = chunk[0].id
            moved = _move(
                session,
                chunk,
                SurveyStatus.PLANNED,
                status=SurveyStatus.SENT,
                sent_at=now,
                expires_at=now + SURVEY_LIFE,
                group_id=group_id,
            )
            if moved != len(chunk):
                continue  # another run took them
            for survey in chunk:
                survey.status, survey.sent_at, survey.group_id = SurveyStatus.SENT, now, group_id
                survey.expires_at = now + SURVEY_LIFE
            if _queue(session, chunk, Purpose.SURVEY, f"survey:{_ids(chunk)}", now):
                messages += 1
            sent += len(chunk)
    return sent, messages, cancelled


def _remind(session: Session, now: datetime) -> int:
    waiting = list(
        session.execute(
            sa.select(Survey)
            .where(
                Survey.status == SurveyStatus.SENT,
                Survey.sent_at <= now - REMINDER_AFTER,
                Survey.expires_at > now,
            )
            .options(*_LOADED)
            .order_by(Survey.id)
        )
        .unique()
        .scalars()
    )
    groups: dict[int, list[Survey]] = defaultdict(list)
    for survey in waiting:
        groups[survey.group_id or survey.id].append(survey)
    reminded = 0
    for group_id, members in groups.items():
        moved = _move(
            session, members, SurveyStatus.SENT, status=SurveyStatus.REMINDED, reminded_at=now
        )
        if moved != len(members):
            continue
        for survey in members:
            survey.status, survey.reminded_at = SurveyStatus.REMINDED, now
        _queue(session, members, Purpose.SURVEY_REMINDER, f"survey_reminder:{group_id}", now)
        reminded += len(members)
    return reminded


def _move(
    session: Session, surveys: list[Survey], from_status: SurveyStatus, **values: object
) -> int:
    if not surveys:
        return 0
    result = session.execute(
        sa.update(Survey)
        .where(among_ids(session, Survey.id, [s.id for s in surveys]), Survey.status == from_status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result)


def _ids(surveys: list[Survey]) -> str:
    return "-".join(str(s.id) for s in sorted(surveys, key=lambda s: s.id))


def claims_words(surveys: list[Survey]) -> str:
    """The claims a message asks about, each with who did the work when a contractor did."""
    return ", ".join(
        s.claim.reference + (f" ({s.contractor.name})" if s.contractor is not None else "")
        for s in surveys
    )


def _queue(
    session: Session, surveys: list[Survey], purpose: Purpose, key: str, now: datetime
) -> bool:
    """The message asking ``surveys``' tenant (or reminding them), with a line on each
    claim's timeline; False if it was written before."""
    first = surveys[0]
    locale = first.locale or "fr"
    context: dict[str, Any] = {
        "landlord": settings().landlord_name,
        "claims": claims_words(surveys),
        "several": len(surveys) > 1,
        "tenant_name": first.tenant.full_name,
        "reminder": purpose == Purpose.SURVEY_REMINDER,
    }
    if first.channel == MessageChannel.SMS:
        subject, text, html = None, render_sms(purpose, locale, **context), None
    else:
        expires = first.expires_at or now + SURVEY_LIFE
        email = render_email(
            purpose,
            locale,
            **context,
            links=answer_links(first.group_id or first.id, locale),
            expires=local_datetime_text(expires, locale),
        )
        subject, text, html = email.subject, email.text, email.html
    message = queue_message(
        session,
        NewMessage(
            idempotency_key=key,
            channel=first.channel,
            purpose=purpose,
            recipient=first.recipient,
            subject=subject,
            body_text=text,
            body_html=html,
            claim_id=first.claim_id,
            locale=locale,
            available_at=now,
        ),
        now,
    )
    if message is None:
        return False
    for survey in surveys:
        timeline.add_event(
            session,
            survey.claim,
            EventKind.MESSAGE,
            now,
            visibility=Visibility.TENANT,
            body=text if subject is None else f"{subject}\n\n{text}",
            changes={
                "outbox_id": message.id,
                "channel": str(first.channel),
                "purpose": str(purpose),
                "survey_id": survey.id,
            },
        )
    return True


# --- the e-mail's signed links ---------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _serializer_for(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_LINK_SALT)


def answer_token(group_id: int, score: int) -> str:
    """A link's token: the surveys of one message and one score, for answering only."""
    return _serializer_for(settings().secret_key).dumps(["answer", group_id, score])


def read_answer_token(token: str) -> tuple[int, int] | None:
    """The surveys' group and score a token names, if signed by us, for answering, and not
    older than a survey lives (the survey's own expiry is checked by the caller)."""
    try:
        purpose, group_id, score = _serializer_for(settings().secret_key).loads(
            token, max_age=int((SURVEY_LIFE + timedelta(days=1)).total_seconds())
        )
    except (BadSignature, ValueError, TypeError):
        return None
    if purpose != "answer" or not isinstance(group_id, int) or score not in SCORES:
        return None
    return group_id, score


def answer_links(group_id: int, locale: str = "fr") -> dict[int, str]:
    """The five links of a survey e-mail; the page opens in the tenant's language."""
    public = settings().public_url or ""
    lang = "?lang=en" if locale == "en" else ""
    return {score: f"{public}/enquete/{answer_token(group_id, score)}{lang}" for score in SCORES}


def surveys_of_group(session: Session, group_id: int) -> list[Survey]:
    return list(
        session.execute(
            sa.select(Survey)
            .where(sa.or_(Survey.group_id == group_id, Survey.id == group_id))
            .options(*_LOADED, selectinload(Survey.answers))
            .order_by(Survey.id)
        )
        .unique()
        .scalars()
    )
