"""SMS tenants send us: STOP / START, an answer to their satisfaction survey
(``grc.surveys.answers``) or to a quality-of-service poll's question (``grc.polls.answers``),
or a reply filed on their latest open claim.

A number with both a hot survey and a poll question waiting: the SMS answers the one whose
message left last (the survey's sending, reminder or clarification against the poll's latest
question or clarification), which is the question on the tenant's screen.

Each SMS is kept once per Twilio ``MessageSid`` (``inbound_sms``, a unique key): the row is
written with ``INSERT … ON CONFLICT DO NOTHING`` in the transaction that applies the SMS,
so a repeated webhook (Twilio retrying, the same post twice at the same moment) finds the
key taken and changes nothing. The operation flushes; the caller commits.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from grc.claims import timeline
from grc.claims.models import OPEN_STATUSES, Claim, EventKind, Visibility
from grc.db import as_written
from grc.messaging.models import InboundSms, InboundSmsOutcome
from grc.people.models import Tenant, TenantPhone
from grc.people.operations import set_sms_opt_out
from grc.polls import answers as poll_answers
from grc.polls.figures import PollReading
from grc.polls.models import PollRecipient
from grc.surveys import answers as survey_answers
from grc.surveys.models import Survey
from grc.text import storable
from notifications import callbacks

log = logging.getLogger(__name__)

# A tenant's SMS reply as kept on the timeline (two segments are 306 characters at most;
# a long multipart text still fits).
MAX_SMS_BODY = 2000


@dataclass(frozen=True)
class _Decision:
    outcome: InboundSmsOutcome
    claim: Claim | None = None
    survey: Survey | None = None
    reading: survey_answers.SurveyReading | None = None
    poll_recipient: PollRecipient | None = None
    poll_reading: PollReading | None = None


def receive_sms(
    session: Session, message_sid: str, from_number: str, body: str, now: datetime
) -> InboundSms | None:
    """Keep and apply one SMS from a tenant; None when this ``MessageSid`` was received
    before (nothing changes)."""
    body = storable(body)[:MAX_SMS_BODY]
    decision = _decide(session, from_number, body, now)
    values = {
        "message_sid": storable(message_sid)[:64],
        "received_at": now,
        "from_number": storable(from_number)[:32],
        "body": body,
        "outcome": decision.outcome,
        "claim_id": decision.claim.id if decision.claim is not None else None,
    }
    with session.no_autoflush:
        returned = (
            session.execute(_insert(session.get_bind().dialect.name), values).mappings().first()
        )
    if returned is None:
        log.info("inbound SMS %s received again: ignored", values["message_sid"])
        return None
    # Every column but the key was given: the row is known without reading it back.
    sms = as_written(session, InboundSms, values, returned)
    sms_id = sms.id
    if decision.outcome in (InboundSmsOutcome.OPTED_OUT, InboundSmsOutcome.OPTED_IN):
        set_sms_opt_out(session, from_number, decision.outcome == InboundSmsOutcome.OPTED_OUT)
    elif decision.poll_recipient is not None and decision.poll_reading is not None:
        poll_answers.apply_sms_answer(
            session,
            decision.poll_recipient,
            body,
            decision.poll_reading,
            now,
            inbound_sms_id=sms_id,
        )
    elif decision.survey is not None and decision.reading is not None:
        survey_answers.apply_sms_answer(
            session, decision.survey, body, decision.reading, now, inbound_sms_id=sms_id
        )
    elif decision.claim is not None:
        claim = decision.claim
        timeline.add_event(
            session,
            claim,
            EventKind.MESSAGE,
            now,
            visibility=Visibility.TENANT,
            body=body,
            changes={
                "channel": "sms",
                "direction": "in",
                "provider_id": values["message_sid"],
                "inbound_sms_id": sms_id,
            },
        )
        claim.updated_at = now
    log.info("inbound SMS %s: %s", values["message_sid"], decision.outcome)
    session.flush()
    return sms


def _decide(session: Session, from_number: str, body: str, now: datetime) -> _Decision:
    """What the SMS asks for, read without writing anything."""
    if callbacks.is_stop_keyword(body):
        return _Decision(InboundSmsOutcome.OPTED_OUT)
    if callbacks.is_start_keyword(body):
        return _Decision(InboundSmsOutcome.OPTED_IN)
    survey = survey_answers.survey_for_number(session, from_number, now)
    recipient = poll_answers.recipient_for_number(session, from_number, now)
    if recipient is not None and (survey is None or _poll_is_later(recipient, survey)):
        return _Decision(
            InboundSmsOutcome.POLL_ANSWER,
            poll_recipient=recipient,
            poll_reading=poll_answers.read_answer(body),
        )
    if survey is not None:
        reading = survey_answers.read_answer(body)
        if reading.kind == survey_answers.AnswerKind.STOP:
            return _Decision(InboundSmsOutcome.OPTED_OUT)
        if reading.kind == survey_answers.AnswerKind.START:
            return _Decision(InboundSmsOutcome.OPTED_IN)
        if survey_answers.takes_sms(survey, reading):
            return _Decision(InboundSmsOutcome.SURVEY_ANSWER, survey.claim, survey, reading)
    # Not an answer to a survey or a poll: the sender's tenants, read only now (an answer
    # needs none).
    tenants = list(
        session.execute(
            sa.select(Tenant).join(TenantPhone).where(TenantPhone.number == from_number)
        ).scalars()
    )
    if not tenants:
        return _Decision(InboundSmsOutcome.UNKNOWN_SENDER)
    claim = session.execute(
        sa.select(Claim)
        .where(Claim.tenant_id.in_([t.id for t in tenants]), Claim.status.in_(OPEN_STATUSES))
        .order_by(Claim.updated_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    if claim is None:
        return _Decision(InboundSmsOutcome.NO_OPEN_CLAIM)
    return _Decision(InboundSmsOutcome.FILED, claim)


def _poll_is_later(recipient: PollRecipient, survey: Survey) -> bool:
    """Whether the poll's latest SMS left after the survey's latest one."""
    survey_last = (
        max(
            moment
            for moment in (survey.sent_at, survey.reminded_at, survey.clarification_sent_at)
            if moment is not None
        )
        if survey.sent_at is not None
        else None
    )
    return survey_last is None or (
        recipient.last_sms_at is not None and recipient.last_sms_at >= survey_last
    )


@functools.cache
def _insert(dialect: str) -> ReturningInsert[Any]:
    table = cast("sa.Table", InboundSms.__table__)  # a mapped class's Table
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return insert.on_conflict_do_nothing(index_elements=["message_sid"]).returning(table.c.id)
