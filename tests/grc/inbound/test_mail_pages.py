"""The mail to handle pages: e-mails nothing matched filed on a claim, tenants' e-mails
registered as claims, contractors' replies confirmed, corrected or filed; scoped like the
inbound API, refusals on the form, the sanitised HTML only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from grc.claims.models import Claim, ClaimEvent, ClaimStatus
from grc.contracts import work_orders
from grc.contracts.models import WorkOrder, WorkOrderStatus
from grc.extensions import db
from grc.inbound.models import InboundEmail, InboundStatus
from tests.grc.inbound.conftest import INBOUND_DOMAIN
from tests.grc.inbound.inbound_posts import claim_with_work_order, post_raw_email, reply
from tests.pages import PageClient, csrf_token, sign_in_as

CONTRACTOR = "ordres@multiservices.test"


@pytest.fixture
def inbox(make_inbox) -> tuple[Flask, Any]:
    return make_inbox()


def _browser(application: Flask, world: Any, user: str) -> PageClient:
    client = PageClient(application, application.response_class, use_cookies=True)
    sign_in_as(client, world.users[user])
    return client


def _post(application: Flask, eml: bytes, to: str) -> InboundEmail:
    assert post_raw_email(application.test_client(), eml, to).status_code == 200
    db.session.expire_all()
    return db.session.execute(
        sa.select(InboundEmail).order_by(InboundEmail.id.desc()).limit(1)
    ).scalar_one()


def _mail(sender: str, to: str, subject: str, text: str, html: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="mail.example.org")
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message.as_bytes()


def _triage(application: Flask, **kwargs: Any) -> InboundEmail:
    to = f"travaux@{INBOUND_DOMAIN}"
    return _post(
        application,
        _mail("quelqu.un@example.org", to, "Fuite au 3e", "L'eau coule encore.", **kwargs),
        to,
    )


def _reply(application: Flask, order: WorkOrder, text: str, sender: str = CONTRACTOR):
    eml = reply(
        to=work_orders.reply_address(order),
        sender=sender,
        subject=f"RE: [{order.claim.reference}] Ordre de service",
        text=text,
        date=datetime.now(UTC),
    )
    return _post(application, eml, work_orders.reply_address(order))


def _events(claim_id: int) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.execute(
            sa.select(ClaimEvent.body).where(
                ClaimEvent.claim_id == claim_id, ClaimEvent.body.is_not(None)
            )
        ).scalars()
    )


def test_the_page_counts_each_kind_and_lists_the_mail(inbox):
    application, world = inbox
    triage = _triage(application)
    order = claim_with_work_order(application, world)
    question = _reply(application, order, "Pouvez-vous me donner le code de la porte ?")
    assert (triage.status, question.status) == (InboundStatus.TRIAGE, InboundStatus.REVIEW)

    page = _browser(application, world, "agent").get("/mail")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Courrier à traiter" in html  # the navigation entry and the title
    assert "Fuite au 3e" in html  # the first tab with mail waiting: to file
    assert '<span class="badge badge-near">1</span>' in html
    replies = _browser(application, world, "agent").get("/mail?tab=replies")
    assert "une question" in replies.get_data(as_text=True)
    assert order.claim.reference in replies.get_data(as_text=True)


def test_scoped_like_the_api(inbox):
    application, world = inbox
    triage = _triage(application)
    order = claim_with_work_order(application, world)  # a Metz claim: unit metz_tech
    question = _reply(application, order, "Pouvez-vous me donner le code de la porte ?")
    assert _browser(application, world, "manager").get("/mail").status_code == 403
    woippy = _browser(application, world, "woippy_tech")
    assert woippy.get(f"/mail/{question.id}").status_code == 404
    assert woippy.get(f"/mail/{triage.id}").status_code == 404  # no claim: not a unit's
    assert "Fuite au 3e" not in woippy.get("/mail?tab=file").get_data(as_text=True)
    metz = _browser(application, world, "metz_tech")
    assert metz.get(f"/mail/{question.id}").status_code == 200
    anonymous = PageClient(application, application.response_class, use_cookies=True)
    assert anonymous.get("/mail").status_code == 302


def test_only_the_sanitised_html_is_shown(inbox):
    application, world = inbox
    triage = _triage(
        application,
        html="<p>Bonjour <b>madame</b></p><script>alert('x')</script><img src=x onerror=alert(1)>",
    )
    html = _browser(application, world, "agent").get(f"/mail/{triage.id}").get_data(as_text=True)
    assert "<b>madame</b>" in html
    assert "alert(" not in html


def test_an_unmatched_email_is_filed_on_a_claim(inbox):
    application, world = inbox
    order = claim_with_work_order(application, world)
    triage = _triage(application)
    browser = _browser(application, world, "agent")
    token = csrf_token(browser, f"/mail/{triage.id}")

    assert browser.post(f"/mail/{triage.id}/attach", data={"reference": "R-1"}).status_code == 400
    unknown = browser.post(
        f"/mail/{triage.id}/attach", data={"csrf_token": token, "reference": "R-1999-000001"}
    )
    assert unknown.status_code == 422
    assert "Aucune de vos demandes n&#39;a cette référence." in unknown.get_data(as_text=True)

    filed = browser.post(
        f"/mail/{triage.id}/attach",
        data={"csrf_token": token, "reference": order.claim.reference},
    )
    assert filed.status_code == 302
    db.session.expire_all()
    stored = db.session.get(InboundEmail, triage.id)
    assert stored.claim_id == order.claim_id
    assert stored.status == InboundStatus.HELD  # not the contractor's address: kept, not applied
    assert any("mis de côté pour vérification" in body for body in _events(order.claim_id))
    again = browser.post(
        f"/mail/{triage.id}/attach",
        data={"csrf_token": token, "reference": order.claim.reference},
    )
    assert again.status_code == 409


def test_a_tenant_email_is_registered_as_a_claim(inbox):
    application, world = inbox
    tenant = world.tenants["TIL-12"]
    to = f"contact@{INBOUND_DOMAIN}"
    mail = EmailMessage()
    mail.set_content("Le radiateur de la chambre est froid.")
    mail.add_attachment(
        b"%PDF-1.4 quote", maintype="application", subtype="pdf", filename="devis.pdf"
    )
    for header, value in (("From", tenant.email), ("To", to), ("Subject", "Panne")):
        mail[header] = value
    intake = _post(application, mail.as_bytes(), to)
    assert (intake.status, intake.tenant_id) == (InboundStatus.INTAKE, tenant.id)
    browser = _browser(application, world, "agent")
    page = browser.get(f"/mail/{intake.id}")
    assert "Locataire : Jean Dupont" in page.get_data(as_text=True)
    token = csrf_token(browser, f"/mail/{intake.id}")
    form = {
        "csrf_token": token,
        "category": "PLB-FUITE",
        "dwelling_id": world.dwellings["TIL-12"].id,
        "description": "Le radiateur de la chambre est froid.",
    }
    too_short = browser.post(f"/mail/{intake.id}/register", data={**form, "description": "x"})
    assert too_short.status_code == 422
    assert 'id="description-error"' in too_short.get_data(as_text=True)
    assert browser.post(f"/mail/{intake.id}/register", data=form).status_code == 302
    db.session.expire_all()
    stored = db.session.get(InboundEmail, intake.id)
    assert stored.status == InboundStatus.APPLIED
    claim = db.session.get(Claim, stored.claim_id)
    assert (claim.tenant_id, claim.channel) == (tenant.id, "email")
    # The claim page shows the e-mail it came from, its attachment to download.
    shown = browser.get(f"/claims/{claim.reference}").get_data(as_text=True)
    assert "E-mail reçu" in shown
    assert f"{tenant.email} — Panne" in shown
    (attachment,) = stored.attachments
    assert f'/mail/{intake.id}/attachments/{attachment.id}"' in shown
    assert "devis.pdf" in shown
    # Units may file mail but not register claims.
    unit = _browser(application, world, "metz_tech")
    unit_form = {**form, "csrf_token": csrf_token(unit, "/mail")}
    assert unit.post(f"/mail/{intake.id}/register", data=unit_form).status_code == 403


def test_a_contractor_reply_is_confirmed_as_read(inbox):
    application, world = inbox
    order = claim_with_work_order(application, world)
    held = _reply(application, order, "Travaux terminés, fuite réparée.", sender="chef@autre.test")
    assert held.status == InboundStatus.HELD
    browser = _browser(application, world, "agent")
    page = browser.get(f"/mail/{held.id}").get_data(as_text=True)
    assert "travaux terminés" in page
    assert "adresse du prestataire" in page
    token = csrf_token(browser, f"/mail/{held.id}")
    assert browser.post(f"/mail/{held.id}/confirm", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(InboundEmail, held.id).status == InboundStatus.APPLIED
    assert db.session.get(Claim, order.claim_id).status == ClaimStatus.RESOLVED
    assert any("Lecture de l'e-mail du prestataire confirmée" in b for b in _events(order.claim_id))
    again = browser.post(f"/mail/{held.id}/confirm", data={"csrf_token": token})
    assert again.status_code == 409


def test_a_contractor_reply_is_corrected_or_filed(inbox):
    application, world = inbox
    order = claim_with_work_order(application, world)
    question = _reply(application, order, "Pouvez-vous me donner le code de la porte ?")
    browser = _browser(application, world, "agent")
    token = csrf_token(browser, f"/mail/{question.id}")
    assert "Confirmer la lecture" not in browser.get(f"/mail/{question.id}").get_data(as_text=True)

    no_time = browser.post(
        f"/mail/{question.id}/correct", data={"csrf_token": token, "kind": "scheduled"}
    )
    assert no_time.status_code == 422
    assert 'id="appointment_at-error"' in no_time.get_data(as_text=True)
    past = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    too_late = browser.post(
        f"/mail/{question.id}/correct",
        data={"csrf_token": token, "kind": "scheduled", "appointment_at": past},
    )
    assert too_late.status_code == 422
    db.session.expire_all()
    assert db.session.get(InboundEmail, question.id).status == InboundStatus.REVIEW

    visit = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT10:00")
    corrected = browser.post(
        f"/mail/{question.id}/correct",
        data={"csrf_token": token, "kind": "scheduled", "appointment_at": visit},
    )
    assert corrected.status_code == 302
    db.session.expire_all()
    stored_order = db.session.get(WorkOrder, order.id)
    assert (stored_order.status, stored_order.needs_attention) == (
        WorkOrderStatus.SCHEDULED,
        False,
    )
    assert db.session.get(InboundEmail, question.id).status == InboundStatus.APPLIED

    other = _reply(application, order, "Merci de nous rappeler demain.")
    token = csrf_token(browser, f"/mail/{other.id}")
    assert browser.post(f"/mail/{other.id}/file", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(InboundEmail, other.id).status == InboundStatus.FILED
    assert db.session.get(WorkOrder, order.id).needs_attention is False
    assert any("classé sans changement" in body for body in _events(order.claim_id))


def test_the_api_decides_on_a_reply_through_the_same_operation(inbox):
    application, world = inbox
    order = claim_with_work_order(application, world)  # a Metz claim: unit metz_tech
    question = _reply(application, order, "Pouvez-vous me donner le code de la porte ?")
    client = application.test_client()
    url = f"/api/v1/inbound-emails/{question.id}/decision"
    body = {"decision": "confirm"}
    assert client.post(url, json=body, headers=world.headers("manager")).status_code == 403
    assert client.post(url, json=body, headers=world.headers("woippy_tech")).status_code == 404
    nothing_read = client.post(url, json=body, headers=world.headers("metz_tech"))
    assert nothing_read.status_code == 409
    no_time = client.post(
        url, json={"decision": "apply", "kind": "scheduled"}, headers=world.headers("metz_tech")
    )
    assert no_time.status_code == 422
    assert "appointment_at" in no_time.json["errors"]["json"]
    done = client.post(
        url, json={"decision": "apply", "kind": "done"}, headers=world.headers("metz_tech")
    )
    assert done.status_code == 200, done.json
    assert done.json["status"] == "applied"
    db.session.expire_all()
    assert db.session.get(Claim, order.claim_id).status == ClaimStatus.RESOLVED
    again = client.post(url, json={"decision": "file"}, headers=world.headers("metz_tech"))
    assert again.status_code == 409


def test_an_attachment_is_downloaded_by_who_may_see_the_email(inbox):
    application, world = inbox
    order = claim_with_work_order(application, world)
    message = EmailMessage()
    message["From"] = CONTRACTOR
    message["To"] = work_orders.reply_address(order)
    message["Subject"] = f"RE: [{order.claim.reference}] Ordre de service"
    message["Date"] = format_datetime(datetime.now(UTC))
    message.set_content("Pouvez-vous me donner le code de la porte ?")
    message.add_attachment(
        b"%PDF-1.4 devis", maintype="application", subtype="pdf", filename="devis.pdf"
    )
    question = _post(application, message.as_bytes(), work_orders.reply_address(order))
    [kept] = question.attachments
    url = f"/mail/{question.id}/attachments/{kept.id}"
    agent = _browser(application, world, "agent")
    assert url in agent.get(f"/mail/{question.id}").get_data(as_text=True)
    download = agent.get(url)
    assert download.status_code == 200
    assert download.data == b"%PDF-1.4 devis"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["Content-Type"] == "application/pdf"  # harmless: kept as sent
    assert _browser(application, world, "woippy_tech").get(url).status_code == 404
    assert agent.get(f"/mail/{question.id}/attachments/2147483647").status_code == 404


def test_an_unknown_sender_s_claim_is_registered_at_the_dwelling_typed(inbox):
    application, world = inbox
    to = f"contact@{INBOUND_DOMAIN}"
    intake = _post(application, _mail("inconnu@example.org", to, "Fuite", "Ça fuit au 12."), to)
    assert (intake.status, intake.tenant_id) == (InboundStatus.INTAKE, None)
    browser = _browser(application, world, "agent")
    assert "pas un locataire connu" in browser.get(f"/mail/{intake.id}").get_data(as_text=True)
    token = csrf_token(browser, f"/mail/{intake.id}")
    form = {"csrf_token": token, "category": "PLB-FUITE", "description": "Ça fuit au 12."}
    unknown = browser.post(f"/mail/{intake.id}/register", data={**form, "dwelling_code": "NOPE"})
    assert unknown.status_code == 422
    assert "Aucun logement n&#39;a ce code." in unknown.get_data(as_text=True)
    code = world.dwellings["TIL-12"].code.lower()  # typed as it comes
    assert (
        browser.post(
            f"/mail/{intake.id}/register", data={**form, "dwelling_code": code}
        ).status_code
        == 302
    )
    db.session.expire_all()
    claim = db.session.get(Claim, db.session.get(InboundEmail, intake.id).claim_id)
    assert claim.dwelling_id == world.dwellings["TIL-12"].id
    assert claim.tenant_id == world.tenants["TIL-12"].id  # the dwelling's occupant
