"""Tenant notifications and staff alerts written to the outbox by claim operations, and
delivered in-process (no Redis in these tests) to the in-memory sender."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from grc.claims.models import ClaimEvent, EventKind
from grc.contracts.models import WorkOrder, WorkOrderStatus
from grc.extensions import db
from grc.messaging.models import DeliveryStatus, MessageChannel, OutboxMessage, Purpose
from grc.people.models import Channel
from notifications.base import sms_segments
from tests.factories import claim_payload

WEEKDAY_MORNING = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Paris
SATURDAY_NIGHT = datetime(2026, 3, 14, 22, 0, tzinfo=UTC)  # 23:00 in Paris


CONTRACTOR_PURPOSES = (
    Purpose.WORK_ORDER,
    Purpose.WORK_ORDER_REMINDER,
    Purpose.WORK_ORDER_ESCALATION,
)


def _messages(**filters) -> list[OutboxMessage]:
    """Messages to tenants and staff; work orders to contractors have tests of their own."""
    stmt = (
        sa.select(OutboxMessage)
        .where(OutboxMessage.purpose.not_in(CONTRACTOR_PURPOSES))
        .order_by(OutboxMessage.id)
    )
    for name, value in filters.items():
        stmt = stmt.where(getattr(OutboxMessage, name) == value)
    return list(db.session.execute(stmt).scalars())


def _create(client, world, **overrides):
    response = client.post(
        "/api/v1/claims", json=claim_payload(world, **overrides), headers=world.headers("agent")
    )
    assert response.status_code == 201, response.json
    return response.json


@freeze_time(WEEKDAY_MORNING)
def test_acknowledgement_by_sms_reaches_the_provider(client, world, sent):
    claim = _create(client, world, category="PLB-ROBINET")
    [message] = _messages(purpose=Purpose.ACKNOWLEDGEMENT)
    assert message.channel == MessageChannel.SMS
    assert message.recipient == "+33612345678"
    assert claim["reference"] in message.body_text
    assert "Robinet ou joint qui goutte" in message.body_text
    # 72 business hours = 8 days of 9 h: Tuesday 10:00 → Friday of next week, Paris time.
    assert "avant le 20/03/2026 à 10h00" in message.body_text
    assert sms_segments(message.body_text) <= 2
    assert message.status == DeliveryStatus.SENT
    [delivered] = sent.sms
    assert (delivered.to, delivered.body) == (message.recipient, message.body_text)
    assert delivered.message_key == f"grc-outbox-{message.id}"
    events = (
        db.session.execute(sa.select(ClaimEvent).where(ClaimEvent.kind == EventKind.MESSAGE))
        .scalars()
        .all()
    )
    assert [e.body for e in events] == [message.body_text]


@freeze_time(WEEKDAY_MORNING)
def test_email_when_preferred_and_sms_fallback(client, world, sent):
    tenant = world.tenants["TIL-11"]
    tenant.preferred_channel = Channel.EMAIL
    db.session.commit()
    claim = _create(client, world)
    [message] = _messages()
    assert message.channel == MessageChannel.EMAIL
    assert message.recipient == tenant.email
    assert message.subject == f"Votre demande {claim['reference']} est enregistrée"
    assert "Multiservices Lorraine" in message.body_text
    assert "<p>" in message.body_html
    [to_tenant] = [e for e in sent.emails if e.to == tenant.email]
    assert to_tenant.html == message.body_html

    tenant.email_opt_out = True  # opted out of e-mail: SMS instead
    db.session.commit()
    _create(client, world)
    assert _messages()[-1].channel == MessageChannel.SMS


@freeze_time(WEEKDAY_MORNING)
@pytest.mark.parametrize("change", ["sms_opt_out", "letter", "no_contact"])
def test_nothing_sent_without_an_open_channel(client, world, sent, change):
    tenant = world.tenants["TIL-11"]
    if change == "sms_opt_out":
        tenant.sms_opt_out = True
        tenant.email = None
    elif change == "letter":
        tenant.preferred_channel = Channel.LETTER
    else:
        tenant.phones.clear()
        tenant.email = None
    db.session.commit()
    _create(client, world)
    assert _messages() == []
    assert sent.sms == []
    assert [e.to for e in sent.emails] == ["ordres@multiservices.test"]  # the work order only


@freeze_time(datetime(2026, 3, 10, 21, 30, tzinfo=UTC))  # 22:30 in Paris
def test_quiet_hours_delay_non_urgent_sms_only(client, world, sent):
    _create(client, world, category="PLB-ROBINET")  # standard
    _create(client, world)  # an active leak: urgent
    standard, urgent = _messages()
    assert standard.available_at == datetime(2026, 3, 11, 7, 0, tzinfo=UTC)  # 08:00 Paris
    assert standard.status == DeliveryStatus.PENDING
    assert urgent.available_at == datetime(2026, 3, 10, 21, 30, tzinfo=UTC)
    assert urgent.status == DeliveryStatus.SENT
    assert len(sent.sms) == 1


@freeze_time(WEEKDAY_MORNING)
def test_first_contact_resolution_sends_the_resolution_only(client, world, sent):
    claim = _create(
        client,
        world,
        category="LOC-AVIS",
        resolve_now=True,
        resolution="Le montant inclut la régularisation des charges.",
    )
    [message] = _messages()
    assert message.purpose == Purpose.RESOLVED
    assert claim["reference"] in message.body_text


@freeze_time(WEEKDAY_MORNING)
def test_question_appointment_and_resolution(client, world, sent):
    claim = _create(client, world, category="PLB-ROBINET")
    url = f"/api/v1/claims/{claim['id']}"
    unit = world.headers("metz_tech")
    client.post(
        f"{url}/transitions",
        json={"action": "wait_tenant", "comment": "Pouvez-vous envoyer une photo ?"},
        headers=unit,
    )
    client.post(f"{url}/transitions", json={"action": "resume"}, headers=unit)
    response = client.post(
        f"{url}/appointment", json={"at": "2026-03-12T14:00:00+01:00"}, headers=unit
    )
    assert response.status_code == 200, response.json
    assert response.json["appointment_at"] == "2026-03-12T13:00:00+00:00"
    # The same appointment again is not a new message.
    client.post(f"{url}/appointment", json={"at": "2026-03-12T14:00:00+01:00"}, headers=unit)
    client.post(
        f"{url}/transitions", json={"action": "resolve", "comment": "Joint changé."}, headers=unit
    )
    purposes = [m.purpose for m in _messages()]
    assert purposes == [
        Purpose.ACKNOWLEDGEMENT,
        Purpose.QUESTION,
        Purpose.SCHEDULED,
        Purpose.RESOLVED,
    ]
    scheduled = _messages(purpose=Purpose.SCHEDULED)[0]
    assert "le 12/03 à 14h." in scheduled.body_text
    assert len(sent.sms) == 4


def test_appointment_validation(client, world, sent):
    claim = _create(client, world)
    url = f"/api/v1/claims/{claim['id']}/appointment"
    unit = world.headers("metz_tech")
    assert client.post(url, json={"at": "2026-03-12T14:00:00"}, headers=unit).status_code == 422
    assert (
        client.post(url, json={"at": "2001-01-01T10:00:00+01:00"}, headers=unit).status_code == 422
    )
    assert (
        client.post(
            url, json={"at": "2099-01-01T10:00:00+01:00"}, headers=world.headers("manager")
        ).status_code
        == 403
    )
    assert (
        client.post(
            url, json={"at": "2099-01-01T10:00:00+01:00"}, headers=world.headers("woippy_tech")
        ).status_code
        == 404
    )


def _work_order(claim_id: int) -> WorkOrder:
    db.session.expire_all()
    return db.session.execute(
        sa.select(WorkOrder).where(WorkOrder.claim_id == claim_id)
    ).scalar_one()


@freeze_time(WEEKDAY_MORNING)
def test_a_window_is_kept_shown_and_told_as_a_window_and_schedules_the_work_order(
    client, world, sent
):
    claim = _create(client, world)  # a leak at TIL-11: the multiservice contract covers it
    assert _work_order(claim["id"]).status == WorkOrderStatus.SENT
    url = f"/api/v1/claims/{claim['id']}/appointment"
    unit = world.headers("metz_tech")

    response = client.post(
        url,
        json={"at": "2026-03-17T08:00:00+01:00", "end": "2026-03-17T12:00:00+01:00"},
        headers=unit,
    )

    assert response.status_code == 200, response.json
    assert response.json["appointment_at"] == "2026-03-17T07:00:00+00:00"
    assert response.json["appointment_end"] == "2026-03-17T11:00:00+00:00"
    [told] = _messages(purpose=Purpose.SCHEDULED)
    assert "le 17/03 entre 8h et 12h." in told.body_text
    assert "à 8h" not in told.body_text  # never a time nobody gave
    order = _work_order(claim["id"])
    assert order.status == WorkOrderStatus.SCHEDULED
    assert order.appointment_at == datetime(2026, 3, 17, 7, 0, tzinfo=UTC)
    assert order.appointment_end == datetime(2026, 3, 17, 11, 0, tzinfo=UTC)
    shown = client.get(f"/api/v1/claims/{claim['id']}", headers=unit).json
    assert shown["appointment_end"] == "2026-03-17T11:00:00+00:00"

    # The contractor then gives an exact time through the unit: a time again, told as such.
    response = client.post(url, json={"at": "2026-03-17T14:30:00+01:00"}, headers=unit)
    assert response.json["appointment_end"] is None
    assert "le 17/03 à 14h30." in _messages(purpose=Purpose.SCHEDULED)[-1].body_text
    order = _work_order(claim["id"])
    assert (order.appointment_at, order.appointment_end) == (
        datetime(2026, 3, 17, 13, 30, tzinfo=UTC),
        None,
    )


@freeze_time(WEEKDAY_MORNING)
@pytest.mark.parametrize(
    "end",
    [
        "2026-03-17T07:00:00+01:00",  # before the start
        "2026-03-17T08:00:00+01:00",  # no window at all
        "2026-03-18T12:00:00+01:00",  # another day
        "2026-03-17T12:00:00",  # no offset
        "demain",
    ],
)
def test_a_window_that_does_not_fit_is_refused_naming_end(client, world, sent, end):
    claim = _create(client, world)
    response = client.post(
        f"/api/v1/claims/{claim['id']}/appointment",
        json={"at": "2026-03-17T08:00:00+01:00", "end": end},
        headers=world.headers("metz_tech"),
    )
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]["json"]) == ["end"]
    assert _messages(purpose=Purpose.SCHEDULED) == []
    assert _work_order(claim["id"]).status == WorkOrderStatus.SENT


def test_emergency_outside_business_hours_alerts_on_call(client, world, sent):
    agency = world.agencies["METZ"]
    agency.on_call_phone = "+33699887766"
    db.session.commit()
    with freeze_time(SATURDAY_NIGHT):
        claim = _create(client, world)  # PLB-FUITE: urgent
        _create(client, world, category="PLB-ROBINET")  # not urgent: no alert
    with freeze_time(WEEKDAY_MORNING):
        _create(client, world)  # urgent but during business hours: the unit is there
    [alert] = _messages(purpose=Purpose.ON_CALL_ALERT)
    assert alert.recipient == "+33699887766"
    assert alert.body_text.startswith(f"ASTREINTE {claim['reference']}")
    assert "+33612345678" in alert.body_text
    assert alert.status == DeliveryStatus.SENT


def test_sms_texts_fit_in_two_segments_with_long_labels(app_ctx):
    from grc.messaging.rendering import render_sms

    for purpose in (
        Purpose.ACKNOWLEDGEMENT,
        Purpose.SCHEDULED,
        Purpose.RESOLVED,
        Purpose.QUESTION,
        Purpose.ON_CALL_ALERT,
    ):
        for locale in ("fr", "en"):
            text = render_sms(
                purpose,
                locale,
                landlord="Office Public de l'Habitat de Moselle",
                reference="R-2026-000123",
                category="Nuisibles (cafards punaises rongeurs) — fenêtre qui ne ferme plus " * 3,
                due="13/03/2026 à 10h00",
                appointment="12/03 entre 14h30 et 18h",
                address="12 avenue du Maréchal de Lattre de Tassigny, Metz, entrée B" * 2,
                tenant_phone="+33612345678",
                tenant_name="",
                unit="",
                status="",
                contractor=None,
                resolution=None,
                question="",
            )
            assert sms_segments(text) <= 2, (purpose, locale, text)
            assert "R-2026-000123" in text


def test_sla_watch_warns_then_escalates_once(client, world, sent):
    from grc.claims.sla_watch import watch_sla
    from grc.people.models import Role

    world.units["METZ-technique"].email = "technique.metz@bailleur.test"
    world.add_user("manager2", Role.MANAGER)
    db.session.commit()
    with freeze_time(WEEKDAY_MORNING):
        claim = _create(client, world)  # urgent: 4 calendar hours
    # 3 h 30 later: 87.5 % used.
    report = watch_sla(db.session, WEEKDAY_MORNING + timedelta(hours=3, minutes=30))
    db.session.commit()
    assert (report.warnings, report.breaches) == (1, 0)
    again = watch_sla(db.session, WEEKDAY_MORNING + timedelta(hours=3, minutes=40))
    db.session.commit()
    assert (again.warnings, again.breaches) == (0, 0)

    late = watch_sla(db.session, WEEKDAY_MORNING + timedelta(hours=5))
    db.session.commit()
    assert (late.breaches, late.messages) == (1, 2)  # one claim, both managers
    watch_sla(db.session, WEEKDAY_MORNING + timedelta(hours=6))
    db.session.commit()
    warnings = _messages(purpose=Purpose.SLA_WARNING)
    breaches = _messages(purpose=Purpose.SLA_BREACH)
    assert [m.recipient for m in warnings] == ["technique.metz@bailleur.test"]
    assert sorted(m.recipient for m in breaches) == [
        "manager2@bailleur.test",
        "manager@bailleur.test",
    ]
    assert breaches[0].subject == f"[{claim['reference']}] Délai dépassé (Fuite d'eau active)"


def test_sla_watch_ignores_paused_and_closed_claims(client, world, sent):
    from grc.claims.sla_watch import watch_sla

    with freeze_time(WEEKDAY_MORNING):
        paused = _create(client, world)
        done = _create(client, world)
        client.post(
            f"/api/v1/claims/{paused['id']}/transitions",
            json={"action": "wait_tenant", "comment": "Accès ?"},
            headers=world.headers("metz_tech"),
        )
        client.post(
            f"/api/v1/claims/{done['id']}/transitions",
            json={"action": "resolve", "comment": "Réparé."},
            headers=world.headers("metz_tech"),
        )
    report = watch_sla(db.session, WEEKDAY_MORNING + timedelta(hours=8))
    assert (report.checked, report.warnings, report.breaches) == (0, 0, 0)


def test_sla_watch_finds_the_policy_however_far_up_the_tree(client, world, sent):
    # The watch looked one level up only: a category two levels below the policy it follows
    # was never warned about.
    from grc.claims.models import Category
    from grc.claims.sla_watch import watch_sla

    world.units["METZ-technique"].email = "technique.metz@bailleur.test"
    db.session.commit()
    with freeze_time(WEEKDAY_MORNING):
        _create(client, world)  # urgent: 4 calendar hours
    leak = world.category("PLB-FUITE")
    domain = leak.parent
    water = Category(code="PLB-EAU", label_fr="Eau", label_en="Water", parent=domain)
    db.session.add(water)
    domain.sla_policy, leak.sla_policy = leak.sla_policy, None
    leak.parent = water
    db.session.commit()
    report = watch_sla(db.session, WEEKDAY_MORNING + timedelta(hours=3, minutes=30))
    db.session.commit()
    assert (report.warnings, report.breaches) == (1, 0)
