"""Survey answers by SMS through the signed Twilio webhook, with the real Twilio SDK sending
the survey to the local provider stub: a score, "not done" reopening the claim, a later
answer kept, an unclear answer clarified once then given to a person, a forged post."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from freezegun import freeze_time

from grc.claims.models import Claim, ClaimEvent, ClaimStatus, EventKind
from grc.contracts.models import WorkOrder
from grc.extensions import db
from grc.messaging.models import InboundSms, InboundSmsOutcome, OutboxMessage, Purpose
from grc.surveys.models import SurveyAnswer, SurveyStatus
from tests.grc.messaging.provider_apps import (
    PUBLIC_URL,
    TWILIO_FROM,
    Site,
    provider_site,
    twilio_signature,
)
from tests.grc.surveys.helpers import TENANT_NUMBER, TUESDAY, resolved_claim, surveys
from tests.stubs.providers import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, ProviderStub
from workers.jobs import send_surveys

INBOUND_PATH = "/webhooks/twilio/inbound"
SENT = TUESDAY + timedelta(hours=2)


@pytest.fixture
def site(app: Flask, app_ctx: Flask, provider_stub: ProviderStub, tmp_path) -> Iterator[Site]:
    with provider_site(app, provider_stub, str(tmp_path), contracts=True) as opened:
        yield opened


def _inbound(site: Site, body: str, *, sign: bool = True, sid: str | None = None, client=None):
    sid = sid or "SM" + secrets.token_hex(16)
    params = {
        "AccountSid": TWILIO_ACCOUNT_SID,
        "Body": body,
        "From": TENANT_NUMBER,
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsStatus": "received",
        "To": TWILIO_FROM,
    }
    headers = {}
    if sign:
        url = PUBLIC_URL + INBOUND_PATH
        headers["X-Twilio-Signature"] = twilio_signature(TWILIO_AUTH_TOKEN, url, params)
    return (client or site.client).post(INBOUND_PATH, data=params, headers=headers)


def _surveyed(site: Site, provider_stub: ProviderStub, claims: int = 1) -> list[Claim]:
    """Claims of TIL-11 resolved on Tuesday morning, the survey job run two hours later: the
    survey SMS has reached the Twilio stub."""
    made = [resolved_claim(site.world, TUESDAY + timedelta(minutes=i)) for i in range(claims)]
    with freeze_time(SENT + timedelta(minutes=claims)):
        assert "messages=1" in send_surveys()
    survey_sms = [s for s in provider_stub.sms if "Votre avis" in s.body]
    assert len(survey_sms) == 1
    assert survey_sms[0].to == TENANT_NUMBER
    for claim in made:
        assert claim.reference in survey_sms[0].body
    return made


def _claim(claim: Claim) -> Claim:
    db.session.expire_all()
    found = db.session.get(Claim, claim.id)
    assert found is not None
    return found


def _answers() -> list[SurveyAnswer]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(SurveyAnswer).order_by(SurveyAnswer.id)).scalars())


def _outbox(purpose: Purpose) -> list[OutboxMessage]:
    db.session.expire_all()
    stmt = sa.select(OutboxMessage).where(OutboxMessage.purpose == purpose)
    return list(db.session.execute(stmt.order_by(OutboxMessage.id)).scalars())


def test_not_done_by_sms_reopens_the_claim_and_tells_unit_and_contractor(site, provider_stub):
    [claim] = _surveyed(site, provider_stub)
    orders_before = db.session.scalar(sa.select(sa.func.count()).select_from(WorkOrder))

    # A forged post changes nothing.
    with freeze_time(SENT + timedelta(hours=1)):
        assert _inbound(site, "2 pas fait", sign=False).status_code == 403
    assert _claim(claim).status == ClaimStatus.RESOLVED
    assert _answers() == []

    with freeze_time(SENT + timedelta(hours=1)):
        response = _inbound(site, "2 pas fait")
    assert response.status_code == 200
    claim = _claim(claim)
    assert claim.status == ClaimStatus.IN_PROGRESS
    [survey] = surveys(claim)
    assert survey.status == SurveyStatus.ANSWERED
    assert survey.not_done is True
    assert survey.score is None
    [answer] = _answers()
    assert (answer.text, answer.reading, answer.counted) == ("2 pas fait", "not_done", True)
    [sms] = db.session.execute(sa.select(InboundSms)).scalars()
    assert sms.outcome == InboundSmsOutcome.SURVEY_ANSWER
    assert answer.inbound_sms_id == sms.id

    # The unit is e-mailed, the contractor gets a new work order on the same subject.
    [unit_mail] = _outbox(Purpose.SURVEY_NOT_DONE)
    assert claim.reference in unit_mail.subject
    assert "2 pas fait" in unit_mail.body_text
    orders = _outbox(Purpose.WORK_ORDER)
    assert len(orders) == 2
    assert orders[0].subject == orders[1].subject
    assert orders[1].recipient == "ordres@multiservices.test"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WorkOrder)) == orders_before + 1

    events = db.session.execute(
        sa.select(ClaimEvent).where(ClaimEvent.claim_id == claim.id).order_by(ClaimEvent.id)
    ).scalars()
    bodies = [e.body or "" for e in events]
    assert any("2 pas fait" in b and "enquête" in b for b in bodies)
    reopen = list(
        db.session.execute(
            sa.select(ClaimEvent).where(
                ClaimEvent.claim_id == claim.id, ClaimEvent.action == "reopen"
            )
        ).scalars()
    )
    assert len(reopen) == 1
    assert reopen[0].actor_id is None


def test_a_score_counts_and_a_later_one_is_only_kept(site, provider_stub):
    [claim] = _surveyed(site, provider_stub)
    with freeze_time(SENT + timedelta(hours=1)):
        _inbound(site, "4 merci")
        _inbound(site, "5")
    [survey] = surveys(claim)
    assert (survey.status, survey.score) == (SurveyStatus.ANSWERED, 4)
    assert [(a.text, a.score, a.counted) for a in _answers()] == [
        ("4 merci", 4, True),
        ("5", 5, False),
    ]
    assert _claim(claim).status == ClaimStatus.RESOLVED
    later = db.session.execute(
        sa.select(ClaimEvent).where(
            ClaimEvent.claim_id == claim.id, ClaimEvent.body.like("%« 5 »%")
        )
    ).scalar_one()
    assert later.kind == EventKind.MESSAGE
    assert later.changes["counted"] is False


def test_one_answer_applies_to_each_claim_of_the_message(site, provider_stub):
    claims = _surveyed(site, provider_stub, claims=2)
    with freeze_time(SENT + timedelta(hours=1)):
        _inbound(site, "5")
    assert [(s.status, s.score) for s in surveys()] == [(SurveyStatus.ANSWERED, 5)] * 2
    assert [c.status for c in map(_claim, claims)] == [ClaimStatus.RESOLVED] * 2


def test_unclear_gets_one_clarification_then_goes_to_a_person(site, provider_stub):
    [claim] = _surveyed(site, provider_stub)
    with freeze_time(SENT + timedelta(hours=1)):
        _inbound(site, "😀")
        _inbound(site, "bof")
        _inbound(site, "hmm")
    assert len(_outbox(Purpose.SURVEY_CLARIFICATION)) == 1
    clarifications = [s for s in provider_stub.sms if "pas compris" in s.body]
    assert len(clarifications) == 1
    [survey] = surveys(claim)
    assert survey.status == SurveyStatus.SENT  # never a score from an unclear answer
    assert survey.score is None
    assert survey.needs_person is True
    assert [a.counted for a in _answers()] == [False, False, False]
    flagged = db.session.execute(
        sa.select(ClaimEvent).where(
            ClaimEvent.claim_id == claim.id, ClaimEvent.body.like("%à traiter par l'unité%")
        )
    ).scalars()
    assert len(list(flagged)) == 2
    # A clear answer afterwards still counts.
    with freeze_time(SENT + timedelta(hours=2)):
        _inbound(site, "3")
    [survey] = surveys(claim)
    assert (survey.status, survey.score) == (SurveyStatus.ANSWERED, 3)


def test_stop_still_opts_out_while_a_survey_is_open(site, provider_stub):
    _surveyed(site, provider_stub)
    with freeze_time(SENT + timedelta(hours=1)):
        _inbound(site, "STOP")
    [sms] = db.session.execute(sa.select(InboundSms)).scalars()
    assert sms.outcome == InboundSmsOutcome.OPTED_OUT
    assert _answers() == []


def test_the_same_answer_posted_three_times_at_once_counts_once(site, provider_stub):
    [claim] = _surveyed(site, provider_stub)
    sid = "SM" + "e" * 32
    barrier = threading.Barrier(3)
    statuses: list[int] = []

    def post() -> None:
        client = site.app.test_client()
        barrier.wait()
        statuses.append(_inbound(site, "2 pas fait", sid=sid, client=client).status_code)

    with freeze_time(SENT + timedelta(hours=1)):
        threads = [threading.Thread(target=post) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert statuses == [200, 200, 200]
    assert len(_answers()) == 1
    assert _claim(claim).status == ClaimStatus.IN_PROGRESS
    assert len(_outbox(Purpose.SURVEY_NOT_DONE)) == 1
    assert len(_outbox(Purpose.WORK_ORDER)) == 2
