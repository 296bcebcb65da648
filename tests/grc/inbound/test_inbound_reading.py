"""What a reply to a work order changes, through the real webhook: only a confident reading
of a reply about the work moves the order and the claim; everything else goes to a person
with the reason in the reading, or is filed (out-of-office)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from freezegun import freeze_time

from grc.claims.models import Claim, ClaimStatus
from grc.contracts import work_orders
from grc.contracts.models import WorkOrder, WorkOrderStatus
from grc.extensions import db
from grc.inbound.models import InboundEmail, InboundStatus
from tests.grc.inbound.inbound_posts import (
    claim_with_work_order,
    post_form,
    post_raw_email,
    reply,
)

# Tuesday 10 March 2026, 10:30 in Paris.
NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


@pytest.fixture
def inbox(make_inbox) -> tuple[Flask, Any, WorkOrder]:
    application, world = make_inbox(contact_address=None)
    with freeze_time(NOW - timedelta(hours=1)):
        order = claim_with_work_order(application, world)
    return application, world, order


def _send(
    application: Flask,
    order: WorkOrder,
    text: str,
    *,
    headers: dict[str, str] | None = None,
    written: datetime = NOW,
    subject: str | None = None,
    sender: str | None = None,
) -> InboundEmail:
    eml = reply(
        to=work_orders.reply_address(order),
        sender=sender or order.contractor.email,
        subject=subject or f"RE: [{order.claim.reference}] Ordre de service",
        text=text,
        date=written,
        headers=headers,
    )
    with freeze_time(NOW):
        response = post_raw_email(application.test_client(), eml, work_orders.reply_address(order))
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.expire_all()
    return db.session.get(InboundEmail, response.json["id"])


def _unchanged(order: WorkOrder) -> tuple[Claim, WorkOrder]:
    db.session.expire_all()
    claim = db.session.get(Claim, order.claim_id)
    current = db.session.get(WorkOrder, order.id)
    assert claim.status == ClaimStatus.ASSIGNED
    assert claim.appointment_at is None
    assert current.status == WorkOrderStatus.SENT
    return claim, current


NEWSLETTER = """Hello,

Good news for savers: our rates are fixed until June, and our 3.45% Fixed Rate bond is
open to new customers this week. Switch today and see what you could save."""


@pytest.mark.parametrize(
    ("text", "headers", "note"),
    [
        # Each of these resolved the claim, or moved it to in_progress, on a95777f.
        (
            NEWSLETTER,
            {"List-Unsubscribe": "<https://bank.example/u>"},
            "newsletter or mailing list",
        ),
        ("Our new 3.45% Fixed Rate bond is open.", {}, "no signal"),
        (
            "Sehr geehrte Damen und Herren,\n\ndie Termine für die Wartung sind bestätigt.\n\n"
            "Mit freundlichen Grüßen",
            {},
            "neither French nor English",
        ),
        (
            "Your message was received but could not be delivered to one or more recipients.",
            {},
            "delivery report",
        ),
        # A real reply with only Precedence: bulk is read by a person, not filed unseen.
        ("Travaux terminés, fuite réparée.", {"Precedence": "bulk"}, "newsletter or mailing list"),
    ],
)
def test_mail_that_is_not_a_confident_reply_changes_nothing_and_goes_to_a_person(
    inbox, text, headers, note
):
    application, _, order = inbox

    stored = _send(application, order, text, headers=headers)

    assert stored.status == InboundStatus.REVIEW
    assert stored.reading["confident"] is False
    assert note in stored.reading["notes"]
    _, current = _unchanged(order)
    assert current.needs_attention


def test_a_bounce_by_its_report_type_changes_nothing(inbox):
    application, _, order = inbox
    report = EmailMessage()
    report["From"] = order.contractor.email
    report["To"] = work_orders.reply_address(order)
    report["Subject"] = "Delivery Status Notification"
    report["Date"] = format_datetime(NOW)
    report["Message-ID"] = make_msgid(domain="mx.example")
    report.set_content("Your message was received.")
    report.make_mixed()
    report.set_type("multipart/report")
    report.set_param("report-type", "delivery-status")
    with freeze_time(NOW):
        response = post_raw_email(
            application.test_client(), report.as_bytes(), work_orders.reply_address(order)
        )
    db.session.expire_all()
    stored = db.session.get(InboundEmail, response.json["id"])
    assert stored.status == InboundStatus.REVIEW
    assert stored.reading["notes"] == ["delivery report"]
    _unchanged(order)


@pytest.mark.parametrize(
    "headers",
    [{"Auto-Submitted": "auto-replied"}, {"X-Autoreply": "yes"}, {}],
)
def test_out_of_office_stays_filed(inbox, headers):
    application, _, order = inbox
    stored = _send(
        application,
        order,
        "Bonjour, je suis absent du bureau jusqu'au 16 mars, avec un accès limité à mes e-mails.",
        headers=headers,
    )
    assert stored.status == InboundStatus.FILED
    _unchanged(order)


def test_a_reply_on_the_attribution_line_is_applied_with_its_text(inbox):
    application, _, order = inbox
    stored = _send(
        application,
        order,
        "Parfait, c'est réparé. Le mar. 10 mars 2026 à 09:40, GRC <grc@bailleur.test> a écrit :\n"
        "> Bonjour,\n> Merci d'intervenir pour la demande.",
    )
    assert stored.new_text == "Parfait, c'est réparé."
    assert stored.status == InboundStatus.APPLIED
    db.session.expire_all()
    assert db.session.get(Claim, order.claim_id).status == ClaimStatus.RESOLVED


def test_a_window_reaches_the_claim_the_order_and_the_tenant(inbox):
    application, _, order = inbox
    stored = _send(application, order, "Bonjour, nous passerons demain matin. Cordialement")

    assert stored.status == InboundStatus.APPLIED
    db.session.expire_all()
    claim = db.session.get(Claim, order.claim_id)
    start, end = datetime(2026, 3, 11, 7, tzinfo=UTC), datetime(2026, 3, 11, 11, tzinfo=UTC)
    assert (claim.appointment_at, claim.appointment_end) == (start, end)
    current = db.session.get(WorkOrder, order.id)
    assert (current.status, current.appointment_at, current.appointment_end) == (
        WorkOrderStatus.SCHEDULED,
        start,
        end,
    )
    from grc.messaging.models import OutboxMessage, Purpose

    [told] = db.session.execute(
        sa.select(OutboxMessage).where(OutboxMessage.purpose == Purpose.SCHEDULED)
    ).scalars()
    assert "le 11/03 entre 8h et 12h" in told.body_text


def test_dates_are_read_from_the_mail_s_own_date(inbox):
    application, _, order = inbox
    # Written on Monday evening, arrived on Tuesday: "demain" is Tuesday.
    stored = _send(
        application, order, "Nous passerons demain à 15h.", written=NOW - timedelta(hours=15)
    )
    assert stored.status == InboundStatus.APPLIED
    db.session.expire_all()
    assert db.session.get(Claim, order.claim_id).appointment_at == datetime(
        2026, 3, 10, 14, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("text", "written", "note"),
    [
        (
            "Nous passerons demain à 14h.",
            NOW - timedelta(days=9),
            "sent long before or after it arrived",
        ),
        ("Travaux terminés.", NOW + timedelta(days=5), "sent long before or after it arrived"),
        ("Nous passerons le 15/08 à 14h.", NOW, "date months ahead"),
        ("Nous passerons aujourd'hui à 8h.", NOW, "time in the past"),
    ],
)
def test_a_date_far_from_the_arrival_goes_to_a_person(inbox, text, written, note):
    application, _, order = inbox
    stored = _send(application, order, text, written=written)
    assert stored.status == InboundStatus.REVIEW
    assert note in stored.reading["notes"]
    _unchanged(order)


def test_an_unreadable_post_still_names_its_sender_subject_and_order(inbox):
    application, _, order = inbox
    address = work_orders.reply_address(order)
    # Parsed mode, its text binary junk: nothing to read, but the fields say who and what.
    with freeze_time(NOW):
        response = post_form(
            application.test_client(),
            {
                "from": f"Multiservices <{order.contractor.email}>",
                "to": address,
                "subject": "RE: Ordre de service",
                "text": b"\x00\x01\x02\x03\x04\x05\x06\x07\x08" * 20,
                "envelope": f'{{"to": ["{address}"], "from": "{order.contractor.email}"}}',
                "charsets": "{}",
            },
        )
    db.session.expire_all()
    stored = db.session.get(InboundEmail, response.json["id"])
    assert stored.status == InboundStatus.UNREADABLE
    assert stored.from_address == order.contractor.email.lower()
    assert stored.subject == "RE: Ordre de service"
    assert stored.work_order_id == order.id
    assert db.session.get(WorkOrder, order.id).needs_attention


def test_an_e_mail_set_aside_after_crashes_still_names_its_sender_subject_and_order(
    inbox, monkeypatch
):
    from grc.inbound.operations import MAX_ATTEMPTS
    from workers.jobs import process_received_emails

    application, _, order = inbox

    def broken(*args, **kwargs):
        raise RuntimeError("reader crashed")

    monkeypatch.setattr("grc.inbound.processing.read_reply", broken)
    stored = _send(application, order, "Travaux terminés.", subject="RE: Ordre de service 12")
    order_id, claim_id, contractor = order.id, order.claim_id, order.contractor.email.lower()
    for _ in range(stored.attempts, MAX_ATTEMPTS):
        db.session.expire_all()
        waiting = db.session.get(InboundEmail, stored.id)
        waiting.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)  # its wait is over
        db.session.commit()
        assert process_received_emails() in ("failed=1", "unreadable=1")
    db.session.expire_all()
    stored = db.session.get(InboundEmail, stored.id)
    assert stored.status == InboundStatus.UNREADABLE
    assert stored.from_address == contractor
    assert stored.subject == "RE: Ordre de service 12"
    assert stored.work_order_id == order_id
    assert db.session.get(WorkOrder, order_id).needs_attention
    assert db.session.get(Claim, claim_id).status == ClaimStatus.ASSIGNED
