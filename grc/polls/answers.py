"""Answers to a poll: by SMS one question at a time (``grc.messaging.inbound_sms`` hands
them over), on the e-mail's page, or typed by an agent on the call list. Each question is
answered once (a unique key on recipient and question): a repeated SMS, a page posted twice
or two agents write nothing more. The functions flush, never commit.

By SMS an answer not understood gets one clarification for the whole poll; a second one puts
the tenant on the agents' call list (``needs_person``) and no SMS is sent: never a loop.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.dml import ReturningInsert

from grc.clock import settings
from grc.db import rows_changed
from grc.messaging.models import Purpose
from grc.messaging.rendering import render_sms
from grc.people.models import User
from grc.polls.figures import VALUES, PollReading, Reading, read_poll_answer
from grc.polls.models import (
    AnswerSource,
    CallOutcome,
    Poll,
    PollAnswer,
    PollQuestion,
    PollRecipient,
    PollStatus,
    RecipientChannel,
    RecipientStatus,
)
from grc.polls.operations import ask_question, opt_out, send_sms

MAX_TEXT = 500
# An agent's hold on a tenant of the call list lapses after this (a call ends long before).
TAKE_FOR = timedelta(minutes=30)
_TAKING = (RecipientStatus.PENDING, RecipientStatus.ASKED)


def read_answer(text: str) -> PollReading:
    return read_poll_answer(text)


def recipient_for_number(session: Session, number: str, now: datetime) -> PollRecipient | None:
    """The poll an SMS from ``number`` answers: the latest one whose question is waiting
    for this number, the poll still open."""
    return session.execute(
        _RECIPIENT_FOR_NUMBER, {"number": number, "now": now}
    ).scalar_one_or_none()


# Built once: every inbound SMS asks, and SQLAlchemy then finds the statement's cache key
# and compiled form on the object instead of building them again.
_RECIPIENT_FOR_NUMBER = (
    sa.select(PollRecipient)
    .join(Poll, Poll.id == PollRecipient.poll_id)
    .where(
        PollRecipient.address == sa.bindparam("number"),
        PollRecipient.status == RecipientStatus.ASKED,
        PollRecipient.channel == RecipientChannel.SMS,
        Poll.status == PollStatus.OPEN,
        Poll.closes_at > sa.bindparam("now"),
    )
    .order_by(PollRecipient.last_sms_at.desc(), PollRecipient.id.desc())
    .limit(1)
)


@dataclass(frozen=True)
class SmsOutcome:
    recorded: bool
    finished: bool = False
    clarification_sent: bool = False
    to_a_person: bool = False


def apply_sms_answer(
    session: Session,
    recipient: PollRecipient,
    text: str,
    reading: PollReading,
    now: datetime,
    *,
    inbound_sms_id: int | None = None,
) -> SmsOutcome:
    """The answer to the question waiting: kept, and the next question (or the thanks)
    sent; not understood: the one clarification, then the call list."""
    questions = recipient.poll.questions
    position = recipient.next_position or 1
    if position > len(questions):
        return SmsOutcome(recorded=False)
    if reading.kind != Reading.VALUE or reading.value is None:
        return _unclear(session, recipient, now)
    question = questions[position - 1]
    _keep(session, recipient, question, reading.value, AnswerSource.SMS, text, now, inbound_sms_id)
    last = position == len(questions)
    values: dict[str, Any] = {"next_position": position + 1, "last_sms_at": now}
    if last:
        values |= {"status": RecipientStatus.ANSWERED, "answered_at": now}
    # Moves once from this question to the next: a second answer to it moves nothing.
    moved = rows_changed(
        session.execute(
            sa.update(PollRecipient)
            .where(PollRecipient.id == recipient.id, PollRecipient.next_position == position)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    )
    if not moved:
        return SmsOutcome(recorded=False)
    for name, value in values.items():
        setattr(recipient, name, value)
    if last:
        text = render_sms(Purpose.POLL_THANKS, recipient.locale, landlord=settings().landlord_name)
        send_sms(session, recipient, Purpose.POLL_THANKS, "thanks", text, now)
    else:
        ask_question(session, recipient, questions[position], now)
    session.flush()
    return SmsOutcome(recorded=True, finished=last)


def _unclear(session: Session, recipient: PollRecipient, now: datetime) -> SmsOutcome:
    if recipient.clarification_sent_at is None:
        claimed = rows_changed(
            session.execute(
                sa.update(PollRecipient)
                .where(
                    PollRecipient.id == recipient.id,
                    PollRecipient.clarification_sent_at.is_(None),
                )
                .values(clarification_sent_at=now, last_sms_at=now)
                .execution_options(synchronize_session=False)
            )
        )
        if claimed:
            recipient.clarification_sent_at = recipient.last_sms_at = now
            text = render_sms(
                Purpose.POLL_CLARIFICATION, recipient.locale, landlord=settings().landlord_name
            )
            send_sms(session, recipient, Purpose.POLL_CLARIFICATION, "clarification", text, now)
            session.flush()
            return SmsOutcome(recorded=False, clarification_sent=True)
    if not recipient.needs_person:
        session.execute(
            sa.update(PollRecipient)
            .where(PollRecipient.id == recipient.id)
            .values(needs_person=True)
            .execution_options(synchronize_session=False)
        )
        recipient.needs_person = True
    return SmsOutcome(recorded=False, to_a_person=True)


def _keep(
    session: Session,
    recipient: PollRecipient,
    question: PollQuestion,
    value: int,
    source: AnswerSource,
    text: str | None,
    now: datetime,
    inbound_sms_id: int | None = None,
    agent_id: int | None = None,
) -> bool:
    """The answer to ``question``, unless it has one already; whether it was written."""
    values = {
        "recipient_id": recipient.id,
        "question_id": question.id,
        "value": value,
        "source": source,
        "text": (text or "")[:MAX_TEXT] or None,
        "inbound_sms_id": inbound_sms_id,
        "agent_id": agent_id,
        "answered_at": now,
    }
    with session.no_autoflush:
        written = session.execute(_insert(session.get_bind().dialect.name), values).scalar()
    return written is not None


@functools.cache
def _insert(dialect: str) -> ReturningInsert[Any]:
    table = cast("sa.Table", PollAnswer.__table__)  # a mapped class's Table
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return insert.on_conflict_do_nothing(index_elements=["recipient_id", "question_id"]).returning(
        table.c.id
    )


# --- the e-mail's page ---------------------------------------------------------------------


def recipient_of_page(session: Session, recipient_id: int, now: datetime) -> PollRecipient | None:
    """The recipient of a page's token, while their poll is open."""
    recipient = session.execute(
        sa.select(PollRecipient)
        .where(PollRecipient.id == recipient_id)
        .options(selectinload(PollRecipient.answers))
    ).scalar_one_or_none()
    if recipient is None:
        return None
    poll = recipient.poll
    if poll.status != PollStatus.OPEN or poll.closes_at <= now:
        return None
    if recipient.status not in (*_TAKING, RecipientStatus.ANSWERED):
        return None
    return recipient


def record_answers(
    session: Session,
    recipient: PollRecipient,
    values: dict[int, int],
    source: AnswerSource,
    now: datetime,
    agent: User | None = None,
) -> int:
    """Answers by question id (1 to 4 each), on the page or by an agent; a question answered
    before keeps its first answer. How many were written. Every question answered: done."""
    questions = {q.id: q for q in recipient.poll.questions}
    written = 0
    for question_id, value in sorted(values.items()):
        if question_id in questions and value in VALUES:
            written += _keep(
                session,
                recipient,
                questions[question_id],
                value,
                source,
                None,
                now,
                agent_id=agent.id if agent is not None else None,
            )
    answered = session.execute(
        sa.select(sa.func.count())
        .select_from(PollAnswer)
        .where(PollAnswer.recipient_id == recipient.id)
    ).scalar_one()
    if answered >= len(questions) and recipient.status in _TAKING:
        session.execute(
            sa.update(PollRecipient)
            .where(PollRecipient.id == recipient.id, PollRecipient.status.in_(_TAKING))
            .values(status=RecipientStatus.ANSWERED, answered_at=now)
            .execution_options(synchronize_session=False)
        )
        recipient.status, recipient.answered_at = RecipientStatus.ANSWERED, now
    session.flush()
    return written


def decline(session: Session, recipient: PollRecipient, now: datetime) -> None:
    """The tenant asks not to be polled any more (from the page): this poll is refused, and
    no later poll draws them."""
    opt_out(session, recipient.tenant_id, now)
    session.execute(
        sa.update(PollRecipient)
        .where(PollRecipient.id == recipient.id, PollRecipient.status.in_(_TAKING))
        .values(status=RecipientStatus.REFUSED)
        .execution_options(synchronize_session=False)
    )
    session.flush()


# --- the call list -------------------------------------------------------------------------


def call_list_filter(now: datetime) -> sa.ColumnElement[bool]:
    """Tenants to call: drawn with neither mobile nor e-mail, or whose SMS answers were not
    understood twice, not finished, their poll open."""
    return sa.and_(
        sa.or_(PollRecipient.channel == RecipientChannel.CALL, PollRecipient.needs_person),
        PollRecipient.status.in_(_TAKING),
        Poll.status == PollStatus.OPEN,
        Poll.closes_at > now,
    )


def take_call(session: Session, recipient_id: int, agent: User, now: datetime) -> bool:
    """The agent takes the tenant to call: one agent at a time (a conditional UPDATE); a
    hold older than ``TAKE_FOR`` lapses. False: another agent has them, or nothing to do."""
    to_call = (
        sa.select(PollRecipient.id)
        .join(Poll, Poll.id == PollRecipient.poll_id)
        .where(PollRecipient.id == recipient_id, call_list_filter(now))
    )
    return bool(
        rows_changed(
            session.execute(
                sa.update(PollRecipient)
                .where(
                    PollRecipient.id.in_(to_call.scalar_subquery()),
                    sa.or_(
                        PollRecipient.taken_by_id.is_(None),
                        PollRecipient.taken_by_id == agent.id,
                        PollRecipient.taken_at < now - TAKE_FOR,
                    ),
                )
                .values(taken_by_id=agent.id, taken_at=now)
                .execution_options(synchronize_session=False)
            )
        )
    )


def record_call(
    session: Session,
    recipient: PollRecipient,
    agent: User,
    outcome: CallOutcome,
    values: dict[int, int],
    now: datetime,
) -> None:
    """The outcome of the agent's call: the answers typed in, or no answer / call later
    (back on the list) / refused; the tenant is let go either way."""
    if values:
        record_answers(session, recipient, values, AnswerSource.CALL, now, agent)
    update: dict[str, Any] = {
        "taken_by_id": None,
        "taken_at": None,
        "call_attempts": PollRecipient.call_attempts + 1,
        "last_call_outcome": outcome,
        "last_called_at": now,
    }
    if outcome == CallOutcome.REFUSED:
        update["status"] = RecipientStatus.REFUSED
    session.execute(
        sa.update(PollRecipient)
        .where(PollRecipient.id == recipient.id, PollRecipient.taken_by_id == agent.id)
        .values(**update)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.expire(recipient)
