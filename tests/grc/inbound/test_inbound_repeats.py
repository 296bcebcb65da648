"""A repeated e-mail is a repeat by construction: the copy that takes the e-mail's key in the
database is processed, every other copy is a duplicate, even when the copies are processed
at the same moment by concurrent jobs (threads, each with its own application context and
database session, on PostgreSQL and SQLite)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from grc.claims.models import Claim, ClaimEvent, ClaimStatus, EventKind
from grc.contracts import work_orders
from grc.contracts.models import WorkOrder
from grc.extensions import db
from grc.inbound.models import InboundEmail, InboundEmailKey, InboundStatus
from grc.inbound.operations import claim_received_emails
from tests.dispatchers import Ignoring, replaced_dispatchers
from tests.grc.inbound.inbound_posts import (
    claim_with_work_order,
    post_raw_email,
    reply,
)

CONTRACTOR = "ordres@multiservices.test"
COPIES = 3


@pytest.fixture
def inbox(make_inbox) -> tuple[Flask, Any]:
    return make_inbox(contact_address=None)


@contextmanager
def _stored_only(application: Flask) -> Iterator[None]:
    """Posts are stored and committed, no job processes them yet."""
    with replaced_dispatchers(application, inbound=Ignoring()):
        yield


def _post_copies(application: Flask, eml: bytes, to: str, copies: int = COPIES) -> list[int]:
    before = {e.id for e in _stored()}
    with _stored_only(application):
        for _ in range(copies):
            assert post_raw_email(application.test_client(), eml, to).status_code == 200
    return [e.id for e in _stored() if e.id not in before]


def _process_at_once(application: Flask, email_ids: list[int]) -> None:
    """Each e-mail in its own thread, all released together, as the jobs of several
    workers would take them: each thread has its own application context and session."""
    from workers.jobs import _process_claimed_email

    assert sorted(claim_received_emails(db.session, datetime.now(UTC), 100)) == sorted(email_ids)
    db.session.commit()
    barrier = threading.Barrier(len(email_ids))
    outcomes: list[str] = []

    def work(email_id: int) -> None:
        with application.app_context():
            barrier.wait()
            outcomes.append(_process_claimed_email(email_id))

    threads = [threading.Thread(target=work, args=(email_id,)) for email_id in email_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == len(email_ids), outcomes


def _stored() -> list[InboundEmail]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(InboundEmail).order_by(InboundEmail.id)).scalars())


def _events(claim_id: int, kind: EventKind) -> list[ClaimEvent]:
    db.session.expire_all()
    return list(
        db.session.execute(
            sa.select(ClaimEvent)
            .where(ClaimEvent.claim_id == claim_id, ClaimEvent.kind == kind)
            .order_by(ClaimEvent.id)
        ).scalars()
    )


def _reply_to(order: WorkOrder, text: str, **kwargs: Any) -> bytes:
    return reply(
        to=work_orders.reply_address(order),
        sender=CONTRACTOR,
        subject=f"RE: [{order.claim.reference}] Ordre de service",
        text=text,
        date=datetime.now(UTC),
        **kwargs,
    )


def test_three_copies_processed_at_once_are_applied_once(inbox):
    """Three rounds, each one e-mail posted three times and its copies processed at the
    same moment: every round applies the reply exactly once."""
    application, world = inbox
    orders = [claim_with_work_order(application, world) for _ in range(3)]
    for order in orders:
        to = work_orders.reply_address(order)
        copies = _post_copies(application, _reply_to(order, "Travaux terminés."), to)
        status_events_before = len(_events(order.claim_id, EventKind.STATUS_CHANGED))
        _process_at_once(application, copies)

        statuses = sorted(e.status for e in _stored() if e.id in copies)
        assert statuses == sorted([InboundStatus.APPLIED] + [InboundStatus.DUPLICATE] * 2)
        assert len(_events(order.claim_id, EventKind.CONTRACTOR_REPLY)) == 1
        status_events = _events(order.claim_id, EventKind.STATUS_CHANGED)
        assert len(status_events) == status_events_before + 1
        assert status_events[-1].to_status == "resolved"
        db.session.expire_all()
        assert db.session.get(Claim, order.claim_id).status == ClaimStatus.RESOLVED
        [key] = db.session.execute(
            sa.select(InboundEmailKey).where(InboundEmailKey.email_id.in_(copies))
        ).scalars()
        [applied] = [e for e in _stored() if e.id in copies and e.status == InboundStatus.APPLIED]
        assert key.email_id == applied.id


def test_a_duplicate_keeps_nothing_but_its_status(inbox):
    application, world = inbox
    order = claim_with_work_order(application, world)
    to = work_orders.reply_address(order)
    eml = _reply_to(order, "Travaux terminés.")
    client = application.test_client()
    assert post_raw_email(client, eml, to).status_code == 200
    assert post_raw_email(client, eml, to).status_code == 200  # SendGrid retried
    first, second = _stored()
    assert (first.status, second.status) == (InboundStatus.APPLIED, InboundStatus.DUPLICATE)
    assert (second.claim_id, second.work_order_id, second.attachments) == (None, None, [])
    assert len(_events(order.claim_id, EventKind.CONTRACTOR_REPLY)) == 1


def test_a_copy_whose_processing_failed_leaves_the_key_to_the_next(inbox, monkeypatch):
    """The key is taken in the transaction that applies the e-mail: when that transaction
    rolls back, the key goes with it and the next copy is the first."""
    from grc.inbound import processing as inbox_module
    from workers.jobs import _process_claimed_email

    application, world = inbox
    order = claim_with_work_order(application, world)
    to = work_orders.reply_address(order)
    first, second = _post_copies(application, _reply_to(order, "Travaux terminés."), to, 2)
    claim_received_emails(db.session, datetime.now(UTC), 10)
    db.session.commit()
    real_read = inbox_module.read_reply

    def crash_once(text: str, **kwargs: Any) -> Any:
        monkeypatch.setattr("grc.inbound.processing.read_reply", real_read)
        raise RuntimeError("reader crashed")

    monkeypatch.setattr("grc.inbound.processing.read_reply", crash_once)
    assert _process_claimed_email(first) == "failed"
    assert _process_claimed_email(second) == "applied"
    assert [e.status for e in _stored()] == [InboundStatus.RECEIVED, InboundStatus.APPLIED]
    db.session.expire_all()
    assert db.session.execute(sa.select(InboundEmailKey.email_id)).scalars().all() == [second]


def _without_message_id(order: WorkOrder, text: str, date: datetime) -> bytes:
    message = EmailMessage()
    message["From"] = CONTRACTOR
    message["To"] = work_orders.reply_address(order)
    message["Subject"] = f"RE: [{order.claim.reference}] Ordre de service"
    message["Date"] = format_datetime(date)
    message.set_content(text)
    return message.as_bytes()


def test_a_mail_without_message_id_is_recognised_by_its_content(inbox):
    application, world = inbox
    order = claim_with_work_order(application, world)
    to = work_orders.reply_address(order)
    sent_at = datetime.now(UTC).replace(microsecond=0)
    eml = _without_message_id(order, "Travaux terminés.", sent_at)
    copies = _post_copies(application, eml, to)
    _process_at_once(application, copies)
    assert sorted(e.status for e in _stored()) == sorted(
        [InboundStatus.APPLIED] + [InboundStatus.DUPLICATE] * 2
    )
    assert all(e.message_id is None for e in _stored())
    assert len(_events(order.claim_id, EventKind.CONTRACTOR_REPLY)) == 1

    # Another text from the same sender at the same second is another e-mail.
    other = _without_message_id(order, "Merci de confirmer la facture.", sent_at)
    with _stored_only(application):
        assert post_raw_email(application.test_client(), other, to).status_code == 200
    [last] = _post_copies(application, other, to, 1)
    from workers.jobs import process_received_emails

    process_received_emails()
    statuses = [e.status for e in _stored()]
    assert statuses[-1] == InboundStatus.DUPLICATE  # the second post of that other text
    assert statuses[-2] != InboundStatus.DUPLICATE
    assert last == _stored()[-1].id
