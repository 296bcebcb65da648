"""Real-world public mail (tests/fixtures/public_mail) posted as if a contractor had answered a
work order with it: nothing in it is a reply about the work, so nothing may change.

Each message keeps its own bytes; only what makes it the worst case is rewritten: it is
delivered to the order's signed reply address (the envelope) and its ``From`` is the
contractor's address, so the sender check lets it through to the reading. Newsletters,
bounces, auto-replies, spam, invitations and broken MIME must then end with a person
(review, held), filed on the timeline, in triage or unreadable, never applied, never 5xx,
never left waiting for a worker that crashed on them.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from freezegun import freeze_time

from contractors.mail import UnreadableEmail, parse_raw_mime
from grc.claims.models import Claim, ClaimStatus
from grc.contracts import work_orders
from grc.contracts.models import WorkOrder
from grc.extensions import db
from grc.inbound.models import InboundEmail, InboundStatus
from notifications.memory import MemorySender
from tests.conftest import _empty_all_tables as empty_all_tables
from tests.contractors.sendgrid_posts import parsed_form, raw_form
from tests.factories import build_world, claim_payload
from tests.grc.inbound.inbound_posts import INBOUND_AUTH, post_form
from tests.grc.messaging.provider_apps import configured_app
from workers.senders import set_senders

PUBLIC_MAIL = Path(__file__).resolve().parents[2] / "fixtures" / "public_mail"
FILES = sorted(path.name for path in PUBLIC_MAIL.glob("*.eml"))
INBOUND_DOMAIN = "inbound.grc.example"
ORDER_SENT = datetime(2026, 3, 10, 7, 40, tzinfo=UTC)
MAIL_READ = datetime(2026, 3, 10, 10, 30, tzinfo=UTC)
# Where mail that is not a reply about the work may end; "applied" is never one of them.
NOT_A_REPLY = {
    InboundStatus.REVIEW,
    InboundStatus.HELD,
    InboundStatus.FILED,
    InboundStatus.TRIAGE,
    InboundStatus.UNREADABLE,
}
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_FROM_HEADER = re.compile(rb"^from[ \t]*:", re.IGNORECASE)


def public_mail(file_name: str) -> bytes:
    return (PUBLIC_MAIL / file_name).read_bytes()


def sent_from(eml: bytes, sender: str) -> bytes:
    """The message with its ``From`` header(s) replaced by ``sender``, every other byte kept.

    The new header goes first (after an mbox ``From `` line, which is not a header)."""
    found = _HEADER_END.search(eml)
    head, rest = (eml[: found.start()], eml[found.start() :]) if found else (eml, b"")
    newline = b"\r\n" if b"\r\n" in eml[:2000] else b"\n"
    lines = head.split(newline) if head else []
    unix_from = [lines.pop(0)] if lines and lines[0].startswith(b"From ") else []
    kept: list[bytes] = []
    in_from = False
    for line in lines:
        if _FROM_HEADER.match(line):
            in_from = True
            continue
        if in_from and line[:1] in (b" ", b"\t"):
            continue  # a folded continuation of the From header
        in_from = False
        kept.append(line)
    # A broken message may start with folded lines: they stay first, not folded into ours.
    folded_start = 0
    while folded_start < len(kept) and kept[folded_start][:1] in (b" ", b"\t"):
        folded_start += 1
    header = f"From: {sender}".encode()
    return newline.join([*unix_from, *kept[:folded_start], header, *kept[folded_start:]]) + rest


def original_subject(eml: bytes) -> str:
    """The Subject as the standard library reads it, whitespace collapsed ('' if none)."""
    try:
        value = email.message_from_bytes(eml, policy=email.policy.default)["Subject"]
    except Exception:  # a header the policy cannot parse: say nothing about it
        return ""
    return " ".join(str(value or "").split())


# --------------------------------------------------------------------------- the claim


class Landlord:
    """One landlord for the whole corpus, each mail getting a claim of its own. Some public
    fixtures share a Message-ID: before such a mail the database starts again from empty,
    so that it arrives in an inbox that never saw it rather than as a duplicate."""

    def __init__(self, application: Flask) -> None:
        self.application = application
        self.world = build_world(db.session)
        db.session.commit()
        self._message_ids: set[str] = set()

    def never_saw(self, eml: bytes) -> None:
        try:
            message_id = parse_raw_mime(eml).message_id
        except UnreadableEmail:
            return
        if message_id in self._message_ids:
            db.session.remove()
            empty_all_tables()
            self.world = build_world(db.session)
            db.session.commit()
            self._message_ids.clear()
        if message_id:
            self._message_ids.add(message_id)


@pytest.fixture(scope="module")
def landlord(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landlord]:
    with configured_app(
        app,
        inbound_domain=INBOUND_DOMAIN,
        inbound_basic_auth=INBOUND_AUTH,
        contact_address=f"contact@{INBOUND_DOMAIN}",
        instance_path=str(tmp_path_factory.mktemp("public_mail")),
    ) as application:
        set_senders(application, MemorySender(), MemorySender())
        try:
            yield Landlord(application)
        finally:
            db.session.remove()
            empty_all_tables()


def _open_claim(application: Flask, world: Any) -> tuple[Claim, WorkOrder]:
    """A leak at TIL-11, routed to the multiservice contractor by a work order."""
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
    return claim, order


def _state(claim: Claim, order: WorkOrder) -> dict[str, Any]:
    """Everything a reply could change on the claim and its work order."""
    return {
        "claim.status": claim.status,
        "claim.appointment_at": claim.appointment_at,
        "claim.resolved_at": claim.resolved_at,
        "claim.resolution": claim.resolution,
        "order.status": order.status,
        "order.acknowledged_at": order.acknowledged_at,
        "order.completed_at": order.completed_at,
        "order.appointment_at": order.appointment_at,
        "order.appointment_end": order.appointment_end,
    }


def _outcome(stored: InboundEmail) -> str:
    """What became of the mail, for a failure message."""
    text = " ".join((stored.new_text or "").split())[:200]
    return f"{stored.status} as {stored.reply_kind} {stored.reading} from the text {text!r}"


def _transport(backend: str, file_name: str) -> str:
    """Raw mode on one backend, parsed on the other, alternating along the corpus: each
    mail goes through both modes, each backend sees both."""
    index = FILES.index(file_name) + (backend == "postgresql")
    return "raw" if index % 2 == 0 else "parsed"


@pytest.mark.parametrize("file_name", FILES, ids=[f.removesuffix(".eml") for f in FILES])
def test_public_mail_sent_to_a_work_order_changes_nothing(landlord, backend, file_name):
    eml = sent_from(public_mail(file_name), landlord.world.contractors["MULTI"].email)
    landlord.never_saw(eml)
    application = landlord.application
    claim, order = _open_claim(application, landlord.world)
    assert claim.status == ClaimStatus.ASSIGNED
    before = _state(claim, order)
    contractor = order.contractor.email
    build = raw_form if _transport(backend, file_name) == "raw" else parsed_form
    fields, files = build(eml, [work_orders.reply_address(order)])

    with freeze_time(MAIL_READ):
        response = post_form(application.test_client(), fields, files)

    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.get(InboundEmail, response.json["id"])
    # Processed to the end: an attempt that crashed leaves it "received", with the error.
    assert stored.status != InboundStatus.RECEIVED, stored.error
    assert stored.status in NOT_A_REPLY, _outcome(stored)
    assert stored.raw_post  # the original is kept, whatever happened
    claim, order = db.session.get(Claim, claim.id), db.session.get(WorkOrder, order.id)
    assert _state(claim, order) == before, _outcome(stored)

    # What a person needs to deal with it: who sent it, about what, for which order.
    assert stored.from_address == contractor
    subject = original_subject(eml)
    if subject:
        assert stored.subject, f"subject {subject!r} not recorded"
        if subject.isascii() and "=?" not in subject:
            assert stored.subject == subject[:300]
    if stored.status != InboundStatus.TRIAGE:
        assert stored.work_order_id == order.id
