"""Every reply of the corpus (tests/fixtures/inbound) through the real webhook and the inbound
processing: how it is matched, read and applied, against what cases.toml expects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from freezegun import freeze_time

from grc.claims.models import Claim, ClaimStatus
from grc.contracts import work_orders
from grc.contracts.models import WorkOrder
from grc.extensions import db
from grc.inbound.models import InboundEmail, InboundStatus
from grc.messaging.models import OutboxMessage, Purpose
from tests.contractors.sendgrid_posts import (
    load_case,
    load_cases,
    parsed_form,
    raw_form,
)
from tests.contractors.test_corpus_parsing import READING_GAPS
from tests.factories import claim_payload
from tests.grc.inbound.inbound_posts import post_form

PARIS = ZoneInfo("Europe/Paris")
INBOUND_DOMAIN = "inbound.grc.example"
CONTACT = f"contact@{INBOUND_DOMAIN}"
ORDER_SENT = datetime(2026, 3, 10, 7, 40, tzinfo=UTC)  # 08:40 in Paris, as the corpus says
REPLIES_READ = datetime(2026, 3, 10, 10, 30, tzinfo=UTC)
CASES = load_cases()
BY_FILE = {case["file"]: case for case in CASES}
APPLIED_KINDS = {"acknowledged", "scheduled", "done"}


@pytest.fixture
def inbox(make_inbox) -> tuple[Flask, Any]:
    return make_inbox(inbound_domain=INBOUND_DOMAIN, contact_address=CONTACT)


def _open_claim(application: Flask, world: Any) -> tuple[Claim, WorkOrder, dict[str, str]]:
    """A leak at TIL-11, routed to the multiservice contractor, and the corpus's values."""
    with freeze_time(ORDER_SENT):
        response = application.test_client().post(
            "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
        )
    assert response.status_code == 201, response.json
    db.session.expire_all()
    claim = db.session.get(Claim, response.json["id"])
    order = db.session.execute(
        sa.select(WorkOrder).where(WorkOrder.claim_id == claim.id)
    ).scalar_one()
    sent = db.session.execute(
        sa.select(OutboxMessage).where(
            OutboxMessage.claim_id == claim.id, OutboxMessage.purpose == Purpose.WORK_ORDER
        )
    ).scalar_one()
    assert sent.provider_id, "the work order e-mail left through the sender"
    values = {
        "reply_to": work_orders.reply_address(order),
        "reference": claim.reference,
        "contractor_email": order.contractor.email,
        # SendGrid's Message-ID begins with the id its API returned.
        "work_order_message_id": f"<{sent.provider_id}.filterdrecv-5c4c8d@geopod-ismtpd-2>",
        "contact_address": CONTACT,
        "tenant_email": world.tenants["TIL-11"].email,
    }
    return claim, order, values


def _post(application: Flask, case: dict[str, Any], values: dict[str, str]) -> InboundEmail:
    eml = load_case(case, values)  # with the generated oversized attachment, if any
    to_contact = case["match"] in ("subject", "thread", "triage", "tenant_intake")
    envelope = [values["contact_address"] if to_contact else values["reply_to"]]
    fields, files = (parsed_form if case["transport"] == "parsed" else raw_form)(eml, envelope)
    with freeze_time(REPLIES_READ):
        response = post_form(application.test_client(), fields, files)
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.expire_all()
    return db.session.get(InboundEmail, response.json["id"])


def _expected_status(case: dict[str, Any]) -> InboundStatus:
    match = case["match"]
    fixed = {
        "triage": InboundStatus.TRIAGE,
        "tenant_intake": InboundStatus.INTAKE,
        "held_sender": InboundStatus.HELD,
        "duplicate": InboundStatus.DUPLICATE,
        "unreadable": InboundStatus.UNREADABLE,
    }
    if match in fixed:
        return fixed[match]
    if case.get("kind") == "auto_reply":
        return InboundStatus.FILED
    if case.get("setup") == "claim_closed":
        return InboundStatus.REVIEW
    if case.get("kind") in APPLIED_KINDS and case.get("confident", True):
        return InboundStatus.APPLIED
    return InboundStatus.REVIEW


def _local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case,
            id=case["file"].removesuffix(".eml"),
            marks=[pytest.mark.xfail(reason=READING_GAPS[case["file"]], strict=False)]
            if case["file"] in READING_GAPS
            else [],
        )
        for case in CASES
    ],
)
def test_corpus_reply_through_the_webhook(inbox, case):
    application, world = inbox
    claim, order, values = _open_claim(application, world)
    if case.get("setup") == "claim_closed":
        claim.status = ClaimStatus.CLOSED
        claim.resolution = "Réparé"
        claim.resolved_at = claim.closed_at = ORDER_SENT
        db.session.commit()
    setup = case.get("setup", "")
    if setup.startswith("duplicate_of:"):
        first = _post(application, BY_FILE[setup.removeprefix("duplicate_of:")], values)
        assert first.status != InboundStatus.DUPLICATE
    messages_before = db.session.execute(sa.select(sa.func.count(OutboxMessage.id))).scalar_one()

    stored = _post(application, case, values)

    assert stored.status == _expected_status(case), (stored.status, stored.error, stored.reading)
    assert stored.raw_post  # the original is always kept
    if case["match"] in ("token", "subject", "thread"):
        assert stored.matched_by == case["match"]
        assert stored.claim_id == claim.id
        assert stored.work_order_id == order.id
    if case["match"] == "held_sender":
        assert stored.claim_id == claim.id  # filed where it belongs, but not applied
    if case["match"] == "tenant_intake":
        assert stored.tenant_id == world.tenants["TIL-11"].id
    if case["match"] in ("triage", "tenant_intake", "duplicate"):
        assert stored.work_order_id is None
    if case["match"] == "unreadable":
        # Still shows who wrote and about which order, and that order waits for a person.
        assert stored.work_order_id == order.id  # the signed address of the SMTP envelope
        if case["file"] == "garbled-undecodable.eml":  # the other one has no header at all
            assert stored.from_address == values["contractor_email"].lower()
            assert stored.subject
        db.session.refresh(order)
        assert order.needs_attention

    if "kind" in case and case["match"] not in ("duplicate", "unreadable"):
        assert stored.reply_kind == case["kind"]
        reading = stored.reading
        assert reading["reason"] == case.get("reason")
        if "confident" in case:
            assert reading["confident"] is case["confident"]
        if "appointment" in case:
            assert datetime.fromisoformat(reading["appointment"]) == _local(case["appointment"])
        if "appointment_end" in case:
            assert datetime.fromisoformat(reading["appointment_end"]) == _local(
                case["appointment_end"]
            )
        for expected in case.get("new_text_contains", []):
            assert expected in stored.new_text
        for gone in case.get("new_text_excludes", []):
            assert gone not in stored.new_text

    kept = [a for a in stored.attachments if a.refused is None]
    refused = [a for a in stored.attachments if a.refused is not None]
    if "attachments_kept" in case:
        assert len(kept) == case["attachments_kept"]
        assert all(a.data is not None and len(a.data) == a.size for a in kept)
    if "attachments_refused" in case:
        assert len(refused) == case["attachments_refused"]
        assert all(a.data is None for a in refused)

    db.session.expire_all()
    current = db.session.get(Claim, claim.id)
    if stored.status == InboundStatus.APPLIED:
        if case["kind"] == "done":
            assert current.status == ClaimStatus.RESOLVED
        else:
            assert current.status == ClaimStatus.IN_PROGRESS
        if case["kind"] == "scheduled":
            assert current.appointment_at == _local(case["appointment"]).astimezone(UTC)
    elif case.get("setup") != "claim_closed" and case["match"] != "duplicate":
        assert current.status == ClaimStatus.ASSIGNED  # nothing moved
        assert current.appointment_at is None
    if case.get("kind") == "auto_reply":
        # Filed and never answered: no message of any kind leaves because of it.
        after = db.session.execute(sa.select(sa.func.count(OutboxMessage.id))).scalar_one()
        assert after == messages_before
