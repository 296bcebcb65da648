"""Work orders out and replies in, end to end: the real SendGrid and Twilio SDKs against the
local stub, the real inbound webhook, the inbound processing run in-process after it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask

from grc.claims.models import Claim, ClaimEvent, ClaimStatus, EventKind
from grc.contracts import work_orders
from grc.contracts.models import WorkOrder, WorkOrderStatus
from grc.extensions import db
from grc.inbound.models import InboundEmail, InboundStatus
from grc.messaging.models import OutboxMessage, Purpose
from tests.grc.inbound.inbound_posts import INBOUND_AUTH, post_raw_email, reply
from tests.grc.messaging.provider_apps import (
    PUBLIC_URL,
    Site,
    provider_site,
)
from tests.stubs.providers import (
    ProviderStub,
)

PARIS = ZoneInfo("Europe/Paris")
INBOUND_DOMAIN = "inbound.bailleur.test"
CONTACT = "contact@bailleur.test"
CONTRACTOR = "ordres@multiservices.test"  # the multiservice contract's contractor (factories)


@pytest.fixture
def site(app: Flask, app_ctx: Flask, provider_stub: ProviderStub, tmp_path) -> Iterator[Site]:
    with provider_site(
        app,
        provider_stub,
        str(tmp_path),
        contracts=True,
        inbound_domain=INBOUND_DOMAIN,
        inbound_basic_auth=INBOUND_AUTH,
        contact_address=CONTACT,
    ) as opened:
        yield opened


def _claim(claim_id: int) -> Claim:
    db.session.expire_all()
    return db.session.get(Claim, claim_id)


def _work_order(claim_id: int) -> WorkOrder:
    db.session.expire_all()
    return db.session.execute(
        sa.select(WorkOrder).where(WorkOrder.claim_id == claim_id)
    ).scalar_one()


def _inbound() -> list[InboundEmail]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(InboundEmail).order_by(InboundEmail.id)).scalars())


def test_reply_by_email_schedules_then_resolves_the_claim(site, provider_stub):
    claim = site.create_claim()  # a leak at TIL-11: the multiservice contract covers it
    assert claim["route"]["kind"] == "contractor"

    # The work order reached SendGrid through the SDK, with everything the visit needs.
    [order_email] = [e for e in provider_stub.emails if e.to == [CONTRACTOR]]
    assert order_email.subject.startswith(f"[{claim['reference']}] Ordre de service")
    order = _work_order(claim["id"])
    assert order_email.reply_to == work_orders.reply_address(order)
    assert order_email.reply_to.startswith(f"wo+{order.id}-")
    assert order_email.reply_to.endswith(f"@{INBOUND_DOMAIN}")
    assert "Répondez simplement à ce message" in order_email.text
    assert "porte" in order_email.text  # down to the door
    assert "+33612345678" in order_email.text  # the occupant's number, for access
    assert f"{PUBLIC_URL}/wo/" in order_email.text
    assert order.status == WorkOrderStatus.SENT
    [tenant_sms] = provider_stub.sms  # the acknowledgement
    assert claim["reference"] in tenant_sms.body

    # The contractor answers the e-mail: its Reply-To, in raw MIME, as SendGrid posts it.
    now = datetime.now(UTC)
    visit_day = now.astimezone(PARIS).date() + timedelta(days=3)
    eml = reply(
        to=order_email.reply_to,
        sender=f"Multiservices Lorraine <{CONTRACTOR}>",
        subject=f"RE: {order_email.subject}",
        text=f"Bonjour, nous passerons le {visit_day:%d/%m} à 14h\n\nCordialement,\nM. Weber",
        date=now,
    )
    response = post_raw_email(site.client, eml, order_email.reply_to)
    assert response.status_code == 200, response.json

    [stored] = _inbound()
    assert stored.status == InboundStatus.APPLIED
    assert stored.matched_by == "token"
    assert stored.reply_kind == "scheduled"
    visit = datetime.combine(visit_day, time(14), tzinfo=PARIS)
    current = _claim(claim["id"])
    assert current.status == ClaimStatus.IN_PROGRESS
    assert current.appointment_at == visit.astimezone(UTC)
    order = _work_order(claim["id"])
    assert (order.status, order.appointment_at) == (WorkOrderStatus.SCHEDULED, visit)
    # The tenant is told by SMS, with the reference and the visit.
    appointment_sms = provider_stub.sms[-1]
    assert len(provider_stub.sms) == 2
    assert appointment_sms.to == "+33612345678"
    assert claim["reference"] in appointment_sms.body
    assert f"le {visit_day:%d/%m} à 14h." in appointment_sms.body

    # Then: "Travaux terminés".
    done = reply(
        to=order_email.reply_to,
        sender=CONTRACTOR,
        subject=f"RE: {order_email.subject}",
        text="Travaux terminés, fuite réparée.\n\nEnvoyé de mon iPhone",
        date=datetime.now(UTC),
    )
    assert post_raw_email(site.client, done, order_email.reply_to).status_code == 200
    assert [e.status for e in _inbound()] == [InboundStatus.APPLIED, InboundStatus.APPLIED]
    current = _claim(claim["id"])
    assert current.status == ClaimStatus.RESOLVED
    assert "fuite réparée" in current.resolution
    assert "iPhone" not in current.resolution
    assert _work_order(claim["id"]).status == WorkOrderStatus.DONE
    resolved_sms = provider_stub.sms[-1]
    assert len(provider_stub.sms) == 3
    assert claim["reference"] in resolved_sms.body

    kinds = [
        e.kind
        for e in db.session.execute(
            sa.select(ClaimEvent).where(ClaimEvent.claim_id == claim["id"]).order_by(ClaimEvent.id)
        ).scalars()
    ]
    assert kinds.count(EventKind.CONTRACTOR_REPLY) == 2
    assert EventKind.WORK_ORDER in kinds


def test_one_click_links_confirm_on_a_page_without_login(site, provider_stub):
    claim = site.create_claim()
    order = _work_order(claim["id"])
    [order_email] = [e for e in provider_stub.emails if e.to == [CONTRACTOR]]
    take = order_email.text.split("Je prends en charge : ")[1].split()[0]
    done = order_email.text.split("Intervention terminée : ")[1].split()[0]
    path_take, path_done = take.removeprefix(PUBLIC_URL), done.removeprefix(PUBLIC_URL)

    page = site.client.get(path_take)  # a mail scanner following the link changes nothing
    assert page.status_code == 200
    assert "Confirmez-vous prendre en charge" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert _work_order(claim["id"]).status == WorkOrderStatus.SENT

    confirmed = site.client.post(path_take)
    assert confirmed.status_code == 200
    assert "Merci, c&#39;est enregistré." in confirmed.get_data(as_text=True)
    order = _work_order(claim["id"])
    assert order.status == WorkOrderStatus.ACKNOWLEDGED
    assert _claim(claim["id"]).status == ClaimStatus.IN_PROGRESS
    assert "déjà enregistré" in site.client.post(path_take).get_data(as_text=True)

    assert site.client.post(path_done).status_code == 200
    assert _claim(claim["id"]).status == ClaimStatus.RESOLVED
    assert _work_order(claim["id"]).status == WorkOrderStatus.DONE

    # A token altered by one character, or for another action, is refused.
    # (the signature's first character: its last may only carry padding bits)
    head, _, signature = path_take.rpartition(".")
    forged = f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert site.client.get(forged).status_code == 404
    assert site.client.post(forged).status_code == 404
    assert order.id  # the order exists; the forged link simply names nothing valid


def test_reply_address_signature(site):
    claim = site.create_claim()
    order = _work_order(claim["id"])
    with site.app.app_context():
        good = work_orders.reply_address(order)
        assert work_orders.work_order_id_from_address(good) == order.id
        assert work_orders.work_order_id_from_address(good.upper()) == order.id
        other = good.replace(f"wo+{order.id}-", f"wo+{order.id + 1}-")
        assert work_orders.work_order_id_from_address(other) is None
        wrong_domain = good.replace(INBOUND_DOMAIN, "evil.example")
        assert work_orders.work_order_id_from_address(wrong_domain) is None


def test_contract_deadlines_remind_then_escalate_once(site, provider_stub):
    from workers.jobs import watch_work_orders

    claim = site.create_claim(priority="normal")
    order = _work_order(claim["id"])  # acknowledgement due in 4 h, completion in 72 h
    created = order.created_at

    def watch_at(moment: datetime) -> str:
        from freezegun import freeze_time

        with freeze_time(moment):
            return watch_work_orders()

    assert watch_at(created + timedelta(hours=1)) == "reminders=0 escalations=0"
    assert watch_at(created + timedelta(hours=3, minutes=10)) == "reminders=1 escalations=0"
    assert watch_at(created + timedelta(hours=3, minutes=20)) == "reminders=0 escalations=0"
    assert watch_at(created + timedelta(hours=5)) == "reminders=0 escalations=1"
    assert watch_at(created + timedelta(hours=6)) == "reminders=0 escalations=0"
    db.session.expire_all()
    purposes = [
        (m.purpose, m.recipient)
        for m in db.session.execute(
            sa.select(OutboxMessage).where(OutboxMessage.claim_id == claim["id"])
        ).scalars()
    ]
    assert (Purpose.WORK_ORDER_REMINDER, CONTRACTOR) in purposes
    escalations = [r for p, r in purposes if p == Purpose.WORK_ORDER_ESCALATION]
    assert escalations
    assert CONTRACTOR not in escalations  # to the supervising unit
    assert _work_order(claim["id"]).needs_attention


def test_rerouting_to_a_unit_cancels_the_open_work_order(site, provider_stub):
    from workers.jobs import watch_work_orders

    claim = site.create_claim()
    unit = site.world.units["METZ-technique"]  # the supervising unit takes it over
    response = site.client.post(
        f"/api/v1/claims/{claim['id']}/transitions",
        json={"action": "assign", "unit_id": unit.id},
        headers=site.world.headers("agent"),
    )
    assert response.status_code == 200, response.json
    order = _work_order(claim["id"])
    assert order.status == WorkOrderStatus.CANCELLED
    from freezegun import freeze_time

    with freeze_time(order.created_at + timedelta(hours=5)):
        assert watch_work_orders() == "reminders=0 escalations=0"  # nobody chases it


def test_the_one_click_page_speaks_english_on_request(site, provider_stub):
    claim = site.create_claim()
    [order_email] = [e for e in provider_stub.emails if e.to == [CONTRACTOR]]
    take = order_email.text.split("Je prends en charge : ")[1].split()[0]
    path = take.removeprefix(PUBLIC_URL)

    french = site.client.get(path).get_data(as_text=True)  # French by default
    assert '<html lang="fr">' in french
    assert 'href="?lang=en">English</a>' in french
    by_browser = site.client.get(path, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Do you confirm you are taking this job?" in by_browser.get_data(as_text=True)

    page = site.client.get(f"{path}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Do you confirm you are taking this job?" in page
    assert 'action="?lang=en"' in page  # the answer comes back in English too
    assert "Prestataire" not in page
    assert "Contractor:" in page

    confirmed = site.client.post(f"{path}?lang=en")
    assert "Thank you, it is recorded." in confirmed.get_data(as_text=True)
    assert _claim(claim["id"]).status == ClaimStatus.IN_PROGRESS
    # The landlord's staff read the timeline in French, whatever the contractor's page spoke.
    db.session.expire_all()
    bodies = [e.body or "" for e in _claim(claim["id"]).events]
    assert any("« Prise en charge » confirmé par le lien" in body for body in bodies)
    invalid = site.client.get("/wo/not-a-token?lang=en")
    assert invalid.status_code == 404
    assert "This link is not valid or has expired." in invalid.get_data(as_text=True)
