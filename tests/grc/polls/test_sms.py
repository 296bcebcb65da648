"""A poll by SMS through the signed Twilio webhook, with the real Twilio SDK sending the
questions to the local provider stub: question 1, its answer, question 2, thanks; a forged
post; the same post three times; an answer not understood clarified once, then the call
list; a hot survey and a poll waiting on one number."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from freezegun import freeze_time

from grc.extensions import db
from grc.messaging.models import InboundSms, InboundSmsOutcome
from grc.people.models import Tenant
from grc.polls.models import Poll, RecipientStatus
from tests.grc.messaging.provider_apps import (
    PUBLIC_URL,
    TWILIO_FROM,
    Site,
    provider_site,
    twilio_signature,
)
from tests.grc.polls.helpers import TUESDAY, answers, launched, recipients
from tests.stubs.providers import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, ProviderStub
from workers.jobs import send_polls

INBOUND_PATH = "/webhooks/twilio/inbound"
NUMBER = "+33612345678"  # TIL-11


@pytest.fixture
def site(app: Flask, app_ctx: Flask, provider_stub: ProviderStub, tmp_path) -> Iterator[Site]:
    with provider_site(app, provider_stub, str(tmp_path)) as opened:
        yield opened


def _inbound(site: Site, body: str, *, sign: bool = True, sid: str | None = None):
    sid = sid or "SM" + secrets.token_hex(16)
    params = {
        "AccountSid": TWILIO_ACCOUNT_SID,
        "Body": body,
        "From": NUMBER,
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsStatus": "received",
        "To": TWILIO_FROM,
    }
    headers = {}
    if sign:
        headers["X-Twilio-Signature"] = twilio_signature(
            TWILIO_AUTH_TOKEN, PUBLIC_URL + INBOUND_PATH, params
        )
    return site.client.post(INBOUND_PATH, data=params, headers=headers)


def _to_tenant(provider_stub: ProviderStub) -> list[str]:
    return [sms.body for sms in provider_stub.sms if sms.to == NUMBER]


def _polled(site: Site, provider_stub: ProviderStub) -> Poll:
    poll = launched(sample=8)
    with freeze_time(TUESDAY + timedelta(minutes=1)):
        assert send_polls() == "sms=8 emails=0 closed=0"
        # Run again: nobody is asked twice.
        assert send_polls() == "sms=0 emails=0 closed=0"
    [first] = _to_tenant(provider_stub)
    assert "(1/2)" in first
    assert "propreté des parties communes" in first
    assert "1 Très satisfait" in first or "1 Tres satisfait" in first
    return poll


def _mine(poll: Poll):
    return next(r for r in recipients(poll) if r.address == NUMBER)


def test_one_question_at_a_time_then_thanks(site, provider_stub):
    poll = _polled(site, provider_stub)
    at = TUESDAY + timedelta(minutes=5)
    with freeze_time(at):
        # A forged post changes nothing.
        assert _inbound(site, "2", sign=False).status_code == 403
        assert answers() == []
        # The same post three times counts once.
        for _ in range(3):
            assert _inbound(site, "Plutôt satisfait", sid="SMfirst").status_code == 200
    [answer] = answers()
    assert (answer.value, answer.text) == (2, "Plutôt satisfait")
    texts = _to_tenant(provider_stub)
    assert len(texts) == 2
    assert "(2/2)" in texts[1]
    with freeze_time(at + timedelta(minutes=1)):
        assert _inbound(site, "4").status_code == 200
    assert [a.value for a in answers()] == [2, 4]
    mine = _mine(poll)
    assert mine.status == RecipientStatus.ANSWERED
    texts = _to_tenant(provider_stub)
    assert len(texts) == 3
    assert "merci" in texts[2].lower()
    outcomes = {s.outcome for s in db.session.execute(sa.select(InboundSms)).scalars()}
    assert outcomes == {InboundSmsOutcome.POLL_ANSWER}
    # Done: a later SMS is no answer to the poll any more.
    with freeze_time(at + timedelta(minutes=2)):
        assert _inbound(site, "1").status_code == 200
    assert len(answers()) == 2


def test_an_unclear_answer_is_clarified_once_then_goes_to_a_person(site, provider_stub):
    poll = _polled(site, provider_stub)
    with freeze_time(TUESDAY + timedelta(minutes=5)):
        _inbound(site, "bof, ça dépend des jours")
    texts = _to_tenant(provider_stub)
    assert len(texts) == 2
    assert "pas compris" in texts[1]
    with freeze_time(TUESDAY + timedelta(minutes=6)):
        _inbound(site, "je sais pas")
    # No second clarification: the tenant is on the call list.
    assert len(_to_tenant(provider_stub)) == 2
    mine = _mine(poll)
    assert mine.needs_person is True
    assert mine.status == RecipientStatus.ASKED
    # A clear answer still counts, and the poll goes on.
    with freeze_time(TUESDAY + timedelta(minutes=7)):
        _inbound(site, "1")
    assert [a.value for a in answers()] == [1]
    assert "(2/2)" in _to_tenant(provider_stub)[-1]


def test_stop_opts_out_as_everywhere(site, provider_stub):
    _polled(site, provider_stub)
    with freeze_time(TUESDAY + timedelta(minutes=5)):
        _inbound(site, "STOP")
    assert answers() == []
    db.session.expire_all()
    [sms] = db.session.execute(sa.select(InboundSms)).scalars()
    assert sms.outcome == InboundSmsOutcome.OPTED_OUT
    tenant = db.session.get(Tenant, site.world.tenants["TIL-11"].id)
    assert tenant is not None
    assert tenant.sms_opt_out is True


def _survey_sent(site: Site, at) -> None:
    from tests.grc.surveys.helpers import resolved_claim
    from workers.jobs import send_surveys

    resolved_claim(site.world, TUESDAY)
    with freeze_time(at):
        assert "messages=1" in send_surveys()


@pytest.mark.parametrize("poll_last", [True, False])
def test_the_message_sent_last_takes_the_answer(site, provider_stub, poll_last):
    from grc.surveys.models import Survey, SurveyStatus

    survey_at = TUESDAY + timedelta(hours=2)
    poll_at = survey_at + (timedelta(hours=1) if poll_last else -timedelta(hours=1))
    if not poll_last:
        _survey_sent(site, survey_at)
    launched(sample=8)
    with freeze_time(poll_at):
        send_polls()
    if poll_last:
        _survey_sent(site, survey_at)
    with freeze_time(TUESDAY + timedelta(hours=4)):
        assert _inbound(site, "2").status_code == 200
    db.session.expire_all()
    [sms] = db.session.execute(sa.select(InboundSms)).scalars()
    [survey] = db.session.execute(sa.select(Survey)).scalars()
    if poll_last:
        assert sms.outcome == InboundSmsOutcome.POLL_ANSWER
        assert [a.value for a in answers()] == [2]
        assert survey.status == SurveyStatus.SENT
    else:
        assert sms.outcome == InboundSmsOutcome.SURVEY_ANSWER
        assert answers() == []
        assert survey.score == 2


def test_an_answer_late_in_the_evening_gets_the_next_question_in_the_morning(site, provider_stub):
    from datetime import UTC, datetime

    from grc.messaging.models import OutboxMessage, Purpose

    _polled(site, provider_stub)
    # Tuesday 21:30 in Paris (quiet hours 20:00-08:00).
    with freeze_time(datetime(2026, 3, 10, 20, 30, tzinfo=UTC)):
        assert _inbound(site, "2").status_code == 200
    assert [a.value for a in answers()] == [2]
    assert len(_to_tenant(provider_stub)) == 1  # nothing left yet
    db.session.expire_all()
    [second] = db.session.execute(
        sa.select(OutboxMessage).where(
            OutboxMessage.purpose == Purpose.POLL_QUESTION,
            OutboxMessage.recipient == NUMBER,
            OutboxMessage.idempotency_key.like("%:q2"),
        )
    ).scalars()
    assert second.available_at == datetime(2026, 3, 11, 7, 0, tzinfo=UTC)  # 08:00 in Paris
