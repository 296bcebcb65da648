"""Inbound e-mail with real Redis and real ``inbound`` worker processes: a burst of stored
replies wakes one waiting job at a time, and two workers apply each reply exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask

from grc import create_app
from grc.claims.models import Claim, ClaimEvent, ClaimStatus, EventKind
from grc.contracts import work_orders
from grc.contracts.models import WorkOrder
from grc.extensions import db
from grc.inbound.models import InboundEmail, InboundStatus
from tests.factories import build_world
from tests.grc.inbound.inbound_posts import (
    INBOUND_AUTH,
    claim_with_work_order,
    post_raw_email,
    reply,
)
from tests.workers.conftest import Workers, wait_until
from workers import queues

INBOUND_DOMAIN = "inbound.bailleur.test"
SECRET_KEY = "k" * 48  # the workers' (tests/workers/conftest.py): reply tokens must agree


@pytest.fixture
def inbound_app(queued_app: Flask, app_ctx: Flask) -> Iterator[Flask]:
    settings = replace(
        queued_app.extensions["grc_settings"],
        secret_key=SECRET_KEY,
        inbound_domain=INBOUND_DOMAIN,
        inbound_basic_auth=INBOUND_AUTH,
    )
    application = create_app(settings)
    with application.app_context():
        yield application
        db.session.remove()


def _orders(application: Flask, count: int) -> list[WorkOrder]:
    world = build_world(db.session)
    db.session.commit()
    return [claim_with_work_order(application, world) for _ in range(count)]


def _post_replies(application: Flask, orders: list[WorkOrder], text: str) -> None:
    client = application.test_client()
    for order in orders:
        to = work_orders.reply_address(order)
        eml = reply(
            to=to,
            sender=order.contractor.email,
            subject=f"RE: [{order.claim.reference}] Ordre de service",
            text=text,
            date=datetime.now(UTC),
        )
        assert post_raw_email(client, eml, to).status_code == 200


def test_stored_e_mails_wake_one_waiting_job(inbound_app, redis_server):
    from rq import Queue

    from workers.dispatch import INBOUND, job_started

    queue = Queue(queues.INBOUND, connection=queues.connection(redis_server.url))
    orders = _orders(inbound_app, 3)
    _post_replies(inbound_app, orders, "Travaux terminés.")
    assert queue.count == 1
    [job] = queue.get_jobs()
    assert (job.func_name, job.args) == ("workers.jobs.process_received_emails", ())
    assert job.timeout == queues.INBOUND_TIMEOUT

    job_started(INBOUND)  # what the job does before it claims e-mails
    _post_replies(inbound_app, orders[:1], "Travaux terminés, merci.")
    assert queue.count == 2  # this one may have come too late for the first job: a second


def test_a_burst_is_applied_once_each_by_two_workers(inbound_app, workers: Workers):
    workers.env["GRC_INBOUND_DOMAIN"] = INBOUND_DOMAIN
    orders = _orders(inbound_app, 12)
    claim_ids = [order.claim_id for order in orders]
    workers.start(queues.INBOUND)
    workers.start(queues.INBOUND)
    _post_replies(inbound_app, orders, "Bonjour, travaux terminés ce matin.")

    def all_processed() -> bool:
        db.session.expire_all()
        return not db.session.execute(
            sa.select(InboundEmail.id).where(InboundEmail.status == InboundStatus.RECEIVED)
        ).first()

    wait_until(all_processed, what="12 replies processed")
    stored = db.session.execute(sa.select(InboundEmail)).scalars().all()
    assert len(stored) == 12
    assert {(e.status, e.attempts, e.matched_by) for e in stored} == {
        (InboundStatus.APPLIED, 1, "token")
    }
    assert {e.claim_id for e in stored} == set(claim_ids)
    claims = db.session.execute(sa.select(Claim).where(Claim.id.in_(claim_ids))).scalars()
    assert {claim.status for claim in claims} == {ClaimStatus.RESOLVED}
    logs = "".join(path.read_text() for path in sorted(workers.log_dir.glob("worker-*.log")))
    for email in stored:
        assert logs.count(f"inbound e-mail {email.id}: applied") == 1


def test_copies_posted_during_a_burst_are_applied_once_by_three_workers(
    inbound_app, workers: Workers
):
    """Each reply posted three times while three workers take the burst: one copy of each
    is applied, the others are duplicates, and each claim's timeline has one reply."""
    workers.env["GRC_INBOUND_DOMAIN"] = INBOUND_DOMAIN
    orders = _orders(inbound_app, 6)
    for _ in range(3):
        workers.start(queues.INBOUND)
    client = inbound_app.test_client()
    replies = [
        (
            work_orders.reply_address(order),
            reply(
                to=work_orders.reply_address(order),
                sender=order.contractor.email,
                subject=f"RE: [{order.claim.reference}] Ordre de service",
                text="Travaux terminés.",
                date=datetime.now(UTC),
            ),
        )
        for order in orders
    ]
    for _ in range(3):  # SendGrid posting every reply again, and again
        for to, eml in replies:
            assert post_raw_email(client, eml, to).status_code == 200

    def all_processed() -> bool:
        db.session.expire_all()
        return not db.session.execute(
            sa.select(InboundEmail.id).where(InboundEmail.status == InboundStatus.RECEIVED)
        ).first()

    wait_until(all_processed, timeout=60, what="18 posts processed")
    stored = db.session.execute(sa.select(InboundEmail)).scalars().all()
    by_claim: dict[int | None, list[InboundStatus]] = {}
    for email in stored:
        by_claim.setdefault(email.claim_id, []).append(email.status)
    assert by_claim.pop(None) == [InboundStatus.DUPLICATE] * 12
    assert by_claim == {order.claim_id: [InboundStatus.APPLIED] for order in orders}
    replies_on_timelines = db.session.execute(
        sa.select(ClaimEvent.claim_id).where(ClaimEvent.kind == EventKind.CONTRACTOR_REPLY)
    ).scalars()
    assert sorted(replies_on_timelines) == sorted(order.claim_id for order in orders)
