"""Planning a survey per resolution and the survey job: delay, quiet hours, one message per
tenant and day, a reminder after a day, expiry after a week, nothing sent twice."""

from __future__ import annotations

from datetime import timedelta

from grc.claims.lifecycle import Action
from grc.extensions import db
from grc.messaging.models import MessageChannel, Purpose
from grc.people.models import Channel, Tenant
from grc.surveys.models import SurveyStatus
from grc.surveys.operations import send_due_surveys
from tests.grc.surveys.helpers import (
    TENANT_NUMBER,
    TUESDAY,
    act,
    resolved_claim,
    survey_messages,
    surveys,
)


def _run(at):
    report = send_due_surveys(db.session, at)
    db.session.commit()
    return report


def test_a_resolution_plans_one_survey_two_hours_later(world):
    claim = resolved_claim(world, TUESDAY)
    [survey] = surveys(claim)
    assert survey.status == SurveyStatus.PLANNED
    assert survey.planned_for == TUESDAY + timedelta(hours=2)
    assert (survey.channel, survey.recipient) == (MessageChannel.SMS, TENANT_NUMBER)
    assert survey.resolution_number == 1
    assert survey.contractor_id == world.contractors["MULTI"].id

    assert _run(TUESDAY + timedelta(hours=1, minutes=59)).sent == 0
    assert survey_messages() == []
    assert _run(TUESDAY + timedelta(hours=2)).sent == 1
    [message] = survey_messages()
    assert message.purpose == Purpose.SURVEY
    assert message.recipient == TENANT_NUMBER
    assert claim.reference in message.body_text
    assert "Multiservices Lorraine" in message.body_text
    assert "1" in message.body_text
    assert "5" in message.body_text
    [survey] = surveys(claim)
    assert survey.status == SurveyStatus.SENT
    assert survey.expires_at == TUESDAY + timedelta(hours=2, days=7)

    # A repeated run sends nothing new.
    assert _run(TUESDAY + timedelta(hours=2)).sent == 0
    assert _run(TUESDAY + timedelta(hours=3)).sent == 0
    assert len(survey_messages()) == 1


def test_the_sms_fits_one_segment_for_one_claim(world):
    from notifications.base import sms_segments

    resolved_claim(world, TUESDAY)
    _run(TUESDAY + timedelta(hours=2))
    [message] = survey_messages()
    assert sms_segments(message.body_text) == 1


def test_english_tenants_are_asked_in_english(world):
    tenant = db.session.get(Tenant, world.tenants["TIL-11"].id)
    tenant.locale = "en"
    db.session.commit()
    resolved_claim(world, TUESDAY)
    _run(TUESDAY + timedelta(hours=2))
    [message] = survey_messages()
    assert "Reply 1 (poor) to 5 (very good)" in message.body_text


def test_reopened_before_sending_cancels_and_a_new_resolution_gets_a_new_survey(world):
    claim = resolved_claim(world, TUESDAY)
    act(world, claim, Action.REOPEN, TUESDAY + timedelta(minutes=30))
    [first] = surveys(claim)
    assert first.status == SurveyStatus.CANCELLED
    act(world, claim, Action.RESOLVE, TUESDAY + timedelta(hours=1), "Refait.")
    first, second = surveys(claim)
    assert (second.resolution_number, second.status) == (2, SurveyStatus.PLANNED)
    _run(TUESDAY + timedelta(hours=3))
    assert [s.status for s in surveys(claim)] == [SurveyStatus.CANCELLED, SurveyStatus.SENT]
    assert len(survey_messages()) == 1


def test_two_claims_of_a_tenant_the_same_day_are_one_message(world):
    one = resolved_claim(world, TUESDAY)
    two = resolved_claim(world, TUESDAY + timedelta(hours=1))
    report = _run(TUESDAY + timedelta(hours=2))
    assert (report.sent, report.messages) == (2, 1)
    [message] = survey_messages()
    assert one.reference in message.body_text
    assert two.reference in message.body_text
    first, second = surveys()
    assert first.group_id == second.group_id == first.id
    assert _run(TUESDAY + timedelta(hours=3)).sent == 0
    assert len(survey_messages()) == 1


def test_never_sent_in_quiet_hours(world):
    evening = TUESDAY.replace(hour=18)  # 19:00 in Paris: 21:00 is quiet
    claim = resolved_claim(world, evening)
    [survey] = surveys(claim)
    assert survey.planned_for == TUESDAY.replace(hour=7) + timedelta(days=1)  # 08:00 Paris
    assert _run(evening + timedelta(hours=3)).sent == 0
    assert _run(TUESDAY.replace(hour=7) + timedelta(days=1)).sent == 1


def test_a_late_run_in_quiet_hours_waits(world):
    resolved_claim(world, TUESDAY)
    assert _run(TUESDAY.replace(hour=20)).sent == 0  # 21:00 in Paris
    assert _run(TUESDAY.replace(hour=7) + timedelta(days=1)).sent == 1


def test_one_reminder_after_a_day_then_expiry_after_a_week(world):
    claim = resolved_claim(world, TUESDAY)
    sent = TUESDAY + timedelta(hours=2)
    _run(sent)
    assert _run(sent + timedelta(hours=23)).reminded == 0
    assert _run(sent + timedelta(hours=24)).reminded == 1
    assert _run(sent + timedelta(hours=48)).reminded == 0
    assert [m.purpose for m in survey_messages()] == [Purpose.SURVEY, Purpose.SURVEY_REMINDER]
    [survey] = surveys(claim)
    assert survey.status == SurveyStatus.REMINDED
    assert _run(sent + timedelta(days=7)).expired == 1
    [survey] = surveys(claim)
    assert survey.status == SurveyStatus.EXPIRED


def test_opted_out_of_sms_gets_an_email_and_letters_get_nothing(world):
    tenant = db.session.get(Tenant, world.tenants["TIL-11"].id)
    tenant.sms_opt_out = True
    db.session.commit()
    claim = resolved_claim(world, TUESDAY)
    [survey] = surveys(claim)
    assert (survey.channel, survey.recipient) == (MessageChannel.EMAIL, tenant.email)
    _run(TUESDAY + timedelta(hours=2))
    [message] = survey_messages()
    assert message.channel == MessageChannel.EMAIL
    assert message.body_text.count("/enquete/") == 5

    tenant = db.session.get(Tenant, world.tenants["TIL-11"].id)
    tenant.preferred_channel = Channel.LETTER
    db.session.commit()
    assert surveys(resolved_claim(world, TUESDAY + timedelta(days=1))) == []


def test_first_contact_resolution_plans_a_survey_too(world):
    from grc.claims.models import IntakeChannel
    from grc.claims.operations import NewClaim, create_claim

    claim = create_claim(
        db.session,
        NewClaim(
            category="LOC-CHARGES",
            channel=IntakeChannel.PHONE,
            description="Question sur les charges.",
            dwelling_id=world.dwellings["TIL-11"].id,
            resolve_now=True,
            resolution="Décompte expliqué.",
        ),
        world.users["agent"],
        TUESDAY,
    )
    db.session.commit()
    [survey] = surveys(claim)
    assert survey.status == SurveyStatus.PLANNED


def test_a_survey_that_could_not_leave_within_a_day_is_withdrawn(world):
    claim = resolved_claim(world, TUESDAY - timedelta(days=3))  # a history loaded, a job down
    assert _run(TUESDAY).sent == 0
    [survey] = surveys(claim)
    assert survey.status == SurveyStatus.CANCELLED
    assert survey_messages() == []
