"""The inbound webhook's gate (authentication, size, type, database down) and the staff API
around inbound e-mail: triage, attach, reprocess, who sees what."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from grc.claims.models import Claim, ClaimStatus
from grc.contracts import work_orders
from grc.contracts.models import WorkOrder
from grc.extensions import db
from grc.inbound.models import InboundEmail, InboundStatus
from grc.people.models import Tenant
from tests.dispatchers import Ignoring, replaced_dispatchers
from tests.grc.inbound.conftest import INBOUND_DOMAIN
from tests.grc.inbound.inbound_posts import (
    URL,
    auth_headers,
    claim_with_work_order,
    multipart,
    post_form,
    post_raw_email,
    reply,
)

CONTRACTOR = "ordres@multiservices.test"
PATH_SECRET = "b7f0c1d2e3a4958677a8b9c0d1e2f3a4"


@pytest.fixture
def inbox(make_inbox) -> tuple[Flask, Any]:
    return make_inbox()


def _stored() -> list[InboundEmail]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(InboundEmail).order_by(InboundEmail.id)).scalars())


@contextmanager
def _no_hand_over(application: Flask) -> Iterator[None]:
    """Stored e-mails stay ``received``: no job is told (Redis down, a process killed…)."""
    with replaced_dispatchers(application, inbound=Ignoring()):
        yield


def _store_blank_posts(application: Flask, count: int, now: datetime) -> list[int]:
    from grc.inbound.operations import store_inbound

    with _no_hand_over(application):
        ids = [
            store_inbound(db.session, "multipart/form-data; boundary=x", b"--x--", now)
            for _ in range(count)
        ]
        db.session.commit()
    return ids


def _reply_to(order: WorkOrder, text: str, sender: str = CONTRACTOR) -> bytes:
    return reply(
        to=work_orders.reply_address(order),
        sender=sender,
        subject=f"RE: [{order.claim.reference}] Ordre de service",
        text=text,
        date=datetime.now(UTC),
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        auth_headers("sendgrid:wrong-password"),
        auth_headers("someone:parse-secret-for-tests"),
        {"Authorization": "Bearer parse-secret-for-tests"},
        {"Authorization": "Basic not-base64!"},
    ],
    ids=["none", "wrong-password", "wrong-user", "not-basic", "garbled"],
)
def test_unauthenticated_posts_are_refused_and_store_nothing(inbox, headers):
    application, world = inbox
    order = claim_with_work_order(application, world)
    eml = _reply_to(order, "Travaux terminés")
    response = post_raw_email(
        application.test_client(), eml, work_orders.reply_address(order), headers=headers
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.json["code"] == 401
    assert _stored() == []


def test_path_secret_alone_or_with_basic_auth(make_inbox):
    application, world = make_inbox(inbound_basic_auth=None, inbound_path_secret=PATH_SECRET)
    order = claim_with_work_order(application, world)
    eml = _reply_to(order, "Bien reçu, nous prenons en charge.")
    client = application.test_client()
    to = work_orders.reply_address(order)
    assert post_raw_email(client, eml, to, headers={}).status_code == 401  # no secret path
    wrong = post_raw_email(client, eml, to, headers={}, url=f"{URL}/{PATH_SECRET[:-1]}0")
    assert wrong.status_code == 401
    assert _stored() == []
    assert (
        post_raw_email(client, eml, to, headers={}, url=f"{URL}/{PATH_SECRET}").status_code == 200
    )
    assert [e.status for e in _stored()] == [InboundStatus.APPLIED]


def test_nothing_configured_means_nothing_gets_in(make_inbox):
    application, _ = make_inbox(inbound_basic_auth=None, inbound_path_secret=None)
    body, content_type = multipart({"email": b"From: x@example.org\r\n\r\nHello"})
    response = application.test_client().post(
        URL, data=body, headers={"Content-Type": content_type, **auth_headers()}
    )
    assert response.status_code == 401
    assert _stored() == []


def test_a_25_mb_post_is_refused_with_413(inbox):
    application, _ = inbox
    body, content_type = multipart({"email": b"x" * (25 * 1024 * 1024)})
    response = application.test_client().post(
        URL, data=body, headers={"Content-Type": content_type, **auth_headers()}
    )
    assert response.status_code == 413
    assert response.json["code"] == 413
    assert _stored() == []


def test_a_post_without_content_length_is_cut_at_the_limit(make_inbox):
    application, _ = make_inbox(inbound_max_bytes=1000)
    body, content_type = multipart({"email": b"x" * 5000})
    response = application.test_client().post(
        URL,
        input_stream=io.BytesIO(body),  # streamed, no Content-Length (chunked upload)
        headers={"Content-Type": content_type, **auth_headers()},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert _stored() == []


def test_not_a_form_is_refused(inbox):
    application, _ = inbox
    response = application.test_client().post(URL, json={"email": "x"}, headers=auth_headers())
    assert response.status_code == 415
    assert _stored() == []


def test_database_down_answers_503_so_sendgrid_retries(make_inbox):
    # A database that refuses connections: the post cannot be kept, so it is not accepted.
    application, _ = make_inbox(
        with_world=False, database_url="postgresql://postgres@127.0.0.1:9/grc_absent"
    )
    body, content_type = multipart({"email": b"From: x@example.org\r\n\r\nBonjour"})
    response = application.test_client().post(
        URL, data=body, headers={"Content-Type": content_type, **auth_headers()}
    )
    assert response.status_code == 503
    assert response.json["code"] == 503
    assert response.headers["Retry-After"]


def test_the_same_message_twice_is_recognised_by_its_message_id(inbox):
    application, world = inbox
    order = claim_with_work_order(application, world)
    eml = _reply_to(order, "Travaux terminés.")
    client, to = application.test_client(), work_orders.reply_address(order)
    assert post_raw_email(client, eml, to).status_code == 200
    assert post_raw_email(client, eml, to).status_code == 200  # SendGrid retried
    first, second = _stored()
    assert (first.status, second.status) == (InboundStatus.APPLIED, InboundStatus.DUPLICATE)
    assert first.message_id == second.message_id
    db.session.expire_all()
    assert db.session.get(Claim, order.claim_id).status == ClaimStatus.RESOLVED


def test_unreadable_is_kept_shown_and_can_be_reprocessed(inbox):
    application, world = inbox
    client = application.test_client()
    response = post_form(client, {"to": "x@example.org", "charsets": "{}"}, None)
    assert response.status_code == 200
    [stored] = _stored()
    assert stored.status == InboundStatus.UNREADABLE
    assert stored.error
    listed = client.get("/api/v1/inbound-emails?status=unreadable", headers=world.headers("admin"))
    assert [e["id"] for e in listed.json] == [stored.id]
    again = client.post(
        f"/api/v1/inbound-emails/{stored.id}/reprocess", headers=world.headers("admin")
    )
    assert again.status_code == 200
    [stored] = _stored()
    assert stored.status == InboundStatus.UNREADABLE  # processed again, still unreadable
    assert stored.raw_post


def test_triage_e_mail_attached_by_a_person_is_then_applied(inbox):
    application, world = inbox
    order = claim_with_work_order(application, world)
    client = application.test_client()
    eml = reply(
        to=f"contact@{INBOUND_DOMAIN}",
        sender=CONTRACTOR,
        subject="Intervention",
        text="Bonjour, travaux terminés ce matin.",
        date=datetime.now(UTC),
    )
    assert post_raw_email(client, eml, f"contact@{INBOUND_DOMAIN}").status_code == 200
    [stored] = _stored()
    assert stored.status == InboundStatus.TRIAGE
    url = f"/api/v1/inbound-emails/{stored.id}/attach"
    body = {"claim_id": order.claim_id}
    assert client.post(url, json=body, headers=world.headers("manager")).status_code == 403
    attached = client.post(url, json=body, headers=world.headers("agent"))
    assert attached.status_code == 200, attached.json
    [stored] = _stored()
    assert (stored.status, stored.matched_by) == (InboundStatus.APPLIED, "manual")
    db.session.expire_all()
    assert db.session.get(Claim, order.claim_id).status == ClaimStatus.RESOLVED
    refused = client.post(url, json=body, headers=world.headers("agent"))
    assert refused.status_code == 409


def test_inbound_api_roles_and_scope(inbox):
    application, world = inbox
    order = claim_with_work_order(application, world)  # a Metz claim: unit metz_tech
    client = application.test_client()
    eml = _reply_to(order, "Pouvez-vous me donner le code de la porte ?")
    assert post_raw_email(client, eml, work_orders.reply_address(order)).status_code == 200
    [stored] = _stored()
    assert stored.status == InboundStatus.REVIEW
    url = f"/api/v1/inbound-emails/{stored.id}"
    for role in ("agent", "manager", "admin", "metz_tech"):
        assert client.get(url, headers=world.headers(role)).status_code == 200, role
    assert client.get(url, headers=world.headers("woippy_tech")).status_code == 404
    assert client.get(url).status_code == 401
    listed = client.get("/api/v1/inbound-emails", headers=world.headers("woippy_tech"))
    assert listed.json == []
    reprocess = f"{url}/reprocess"
    assert client.post(reprocess, headers=world.headers("manager")).status_code == 403
    orders = client.get(
        "/api/v1/work-orders?needs_attention=true", headers=world.headers("metz_tech")
    )
    assert [o["id"] for o in orders.json] == [order.id]
    assert client.get("/api/v1/work-orders", headers=world.headers("woippy_tech")).json == []


def test_inbound_html_is_sanitised_before_it_is_shown(inbox):
    application, world = inbox
    order = claim_with_work_order(application, world)
    to = work_orders.reply_address(order)
    html = (
        '<p onclick="steal()">Bien reçu</p><script>alert(1)</script>'
        '<a href="javascript:alert(2)">lien</a><img src="https://tracker.example/p.gif">'
    )
    fields = {
        "headers": f"From: {CONTRACTOR}\r\nTo: {to}\r\nSubject: RE: x\r\n"
        f"Message-ID: <html-1@example.org>\r\n",
        "html": html,
        "from": CONTRACTOR,
        "to": to,
        "subject": "RE: x",
        "envelope": f'{{"to":["{to}"],"from":"{CONTRACTOR}"}}',
        "charsets": '{"html":"UTF-8","to":"UTF-8","from":"UTF-8","subject":"UTF-8"}',
    }
    assert post_form(application.test_client(), fields).status_code == 200
    shown = (
        application.test_client()
        .get("/api/v1/inbound-emails", headers=world.headers("agent"))
        .json[0]["html"]
    )
    assert "Bien reçu" in shown
    for dangerous in ("<script", "onclick", "javascript:", "tracker.example"):
        assert dangerous not in shown


def test_a_tenant_writing_to_the_contact_address_becomes_a_registered_claim(inbox):
    application, world = inbox
    tenant = world.tenants["TIL-11"]
    tenant.email = " Elodie.Lefevre@Example.org"  # found whatever the case of the address
    db.session.commit()
    # Stored lower case, so the lookup is an equality on the indexed column.
    assert (
        db.session.execute(sa.select(Tenant.email).where(Tenant.id == tenant.id)).scalar_one()
        == "elodie.lefevre@example.org"
    )
    client = application.test_client()
    eml = reply(
        to=f"contact@{INBOUND_DOMAIN}",
        sender="Elodie Lefevre <elodie.lefevre@example.org>",
        subject="Fuite sous l'évier",
        text="Bonjour, j'ai une fuite sous l'évier depuis ce matin.\n\nMerci",
        date=datetime.now(UTC),
    )
    assert post_raw_email(client, eml, f"contact@{INBOUND_DOMAIN}").status_code == 200
    [stored] = _stored()
    assert (stored.status, stored.tenant_id) == (InboundStatus.INTAKE, tenant.id)
    listed = client.get("/api/v1/inbound-emails?status=intake", headers=world.headers("agent"))
    assert [e["id"] for e in listed.json] == [stored.id]

    url = f"/api/v1/inbound-emails/{stored.id}/register"
    body = {"category": "PLB-ENGORG", "dwelling_id": world.dwellings["TIL-11"].id}
    assert client.post(url, json=body, headers=world.headers("metz_tech")).status_code == 403
    registered = client.post(url, json=body, headers=world.headers("agent"))
    assert registered.status_code == 201, registered.json
    claim = registered.json
    assert claim["channel"] == "email"
    assert "fuite sous l'évier" in claim["description"]
    assert claim["tenant_id"] == tenant.id
    [stored] = _stored()
    assert (stored.status, stored.claim_id) == (InboundStatus.APPLIED, claim["id"])
    assert client.post(url, json=body, headers=world.headers("agent")).status_code == 409

    # The tenant writes again about it: filed on the claim's timeline, nothing else moves.
    again = reply(
        to=f"contact@{INBOUND_DOMAIN}",
        sender="elodie.lefevre@example.org",
        subject=f"RE: Votre demande {claim['reference']}",
        text="La fuite s'aggrave, merci de faire vite.",
        date=datetime.now(UTC),
    )
    assert post_raw_email(client, again, f"contact@{INBOUND_DOMAIN}").status_code == 200
    latest = _stored()[-1]
    assert (latest.status, latest.claim_id, latest.matched_by) == (
        InboundStatus.FILED,
        claim["id"],
        "subject",
    )
    detail = client.get(f"/api/v1/claims/{claim['id']}", headers=world.headers("agent")).json
    assert any("La fuite s'aggrave" in (e["body"] or "") for e in detail["events"])
    assert detail["status"] == claim["status"]


def test_an_e_mail_whose_hand_over_was_lost_is_processed_by_the_sweeper(inbox):
    from grc.inbound.operations import store_inbound
    from workers.jobs import sweep_outbox

    application, world = inbox
    order = claim_with_work_order(application, world)
    body, content_type = multipart({"email": _reply_to(order, "Travaux terminés.")})
    with _no_hand_over(application):
        email_id = store_inbound(db.session, content_type, body, datetime.now(UTC))
        db.session.commit()
    [stored] = _stored()
    assert stored.status == InboundStatus.RECEIVED
    assert sweep_outbox() == 0  # too recent: the queue may still have it
    [stored] = _stored()  # the sweep ended the session
    stored.received_at -= timedelta(minutes=6)
    db.session.commit()
    assert sweep_outbox() == 1
    db.session.expire_all()
    assert db.session.get(InboundEmail, email_id).status == InboundStatus.APPLIED


def _due_now(email_id: int) -> None:
    """Let the wait before the e-mail's next attempt run out."""
    from datetime import timedelta

    db.session.expire_all()
    stored = db.session.get(InboundEmail, email_id)
    stored.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()


def test_a_processing_crash_is_retried_then_set_aside_with_its_error(inbox, monkeypatch):
    from grc.inbound.operations import MAX_ATTEMPTS
    from workers.jobs import process_received_emails

    application, world = inbox
    order = claim_with_work_order(application, world)
    claim_id = order.claim_id

    def broken(*args, **kwargs):
        raise RuntimeError("reader crashed")

    monkeypatch.setattr("grc.inbound.processing.read_reply", broken)
    to = work_orders.reply_address(order)
    posted_at = datetime.now(UTC)
    assert post_raw_email(application.test_client(), _reply_to(order, "OK"), to).status_code == 200
    [stored] = _stored()  # the in-process attempt failed: kept, error noted, tried again later
    assert (stored.status, stored.attempts) == (InboundStatus.RECEIVED, 1)
    assert "reader crashed" in stored.error
    assert stored.next_attempt_at >= posted_at + timedelta(seconds=10)
    assert process_received_emails() == "nothing due"  # not before its wait is over
    for attempt in range(2, MAX_ATTEMPTS):
        _due_now(stored.id)
        assert process_received_emails() == "failed=1"
        [stored] = _stored()
        assert (stored.status, stored.attempts) == (InboundStatus.RECEIVED, attempt)
    _due_now(stored.id)
    assert process_received_emails() == "unreadable=1"
    [stored] = _stored()
    assert stored.status == InboundStatus.UNREADABLE
    assert stored.attempts == MAX_ATTEMPTS
    assert stored.next_attempt_at is None
    assert stored.raw_post  # kept for a reprocess once fixed
    db.session.expire_all()
    assert db.session.get(Claim, claim_id).status == ClaimStatus.ASSIGNED


def test_one_e_mail_crashing_does_not_hold_up_the_others(inbox, monkeypatch):
    """Each e-mail of a batch is its own transaction: the crash is recorded on its row, the
    replies before and after it are applied."""
    from grc.inbound import processing as inbox_module
    from workers.jobs import process_received_emails

    application, world = inbox
    orders = [claim_with_work_order(application, world) for _ in range(3)]
    with _no_hand_over(application):  # stored, not yet processed
        for order in orders:
            to = work_orders.reply_address(order)
            response = post_raw_email(
                application.test_client(), _reply_to(order, "Travaux terminés."), to
            )
            assert response.status_code == 200
    real_read = inbox_module.read_reply
    crashing = orders[1].claim.reference
    claim_ids = [order.claim_id for order in orders]

    def read_but_crash_on_one(text, **kwargs):
        if crashing in kwargs["subject"]:
            raise RuntimeError("reader crashed")
        return real_read(text, **kwargs)

    monkeypatch.setattr("grc.inbound.processing.read_reply", read_but_crash_on_one)
    assert process_received_emails() == "applied=2 failed=1"
    stored = _stored()
    assert [(e.status, e.attempts) for e in stored] == [
        (InboundStatus.APPLIED, 1),
        (InboundStatus.RECEIVED, 1),
        (InboundStatus.APPLIED, 1),
    ]
    statuses = [db.session.get(Claim, claim_id).status for claim_id in claim_ids]
    assert statuses == [ClaimStatus.RESOLVED, ClaimStatus.ASSIGNED, ClaimStatus.RESOLVED]


def test_claimed_e_mails_are_leased_and_taken_oldest_first(inbox):
    from grc.inbound.operations import (
        PROCESSING_LEASE,
        claim_received_emails,
        set_aside_abandoned,
    )

    application, _world = inbox
    now = datetime.now(UTC)
    ids = _store_blank_posts(application, 5, now)
    assert claim_received_emails(db.session, now, 3) == ids[:3]
    assert claim_received_emails(db.session, now, 3) == ids[3:]
    assert claim_received_emails(db.session, now, 3) == []  # all leased
    db.session.commit()
    stored = _stored()
    assert {(e.attempts, e.next_attempt_at) for e in stored} == {(1, now + PROCESSING_LEASE)}

    # Their worker went silent: once the lease is over they are taken again, and set aside
    # once every attempt was interrupted.
    later = now + PROCESSING_LEASE
    assert claim_received_emails(db.session, later, 10) == ids
    assert claim_received_emails(db.session, later + PROCESSING_LEASE, 10) == ids
    assert set_aside_abandoned(db.session, later + PROCESSING_LEASE) == 0  # still leased
    assert claim_received_emails(db.session, later + 2 * PROCESSING_LEASE, 10) == []
    assert set_aside_abandoned(db.session, later + 2 * PROCESSING_LEASE) == 5
    db.session.commit()
    assert {(e.status, e.attempts) for e in _stored()} == {(InboundStatus.UNREADABLE, 3)}
    assert all("interrupted 3 times" in e.error for e in _stored())


def test_concurrent_jobs_claim_disjoint_batches(inbox, backend):
    """Two jobs claiming at the same moment never get the same e-mail (PostgreSQL's
    FOR UPDATE SKIP LOCKED; SQLite has one writer at a time)."""
    if backend != "postgresql":
        pytest.skip("row locks: PostgreSQL only")
    from sqlalchemy.orm import Session

    from grc.inbound.operations import claim_received_emails

    application, _world = inbox
    now = datetime.now(UTC)
    ids = _store_blank_posts(application, 6, now)
    with Session(db.engine) as first, Session(db.engine) as second:
        taken_first = claim_received_emails(first, now, 4)  # its transaction still open
        taken_second = claim_received_emails(second, now, 4)
        first.commit()
        second.commit()
    assert taken_first == ids[:4]
    assert taken_second == ids[4:]


def test_the_sweeper_hands_over_a_retry_once_its_wait_is_over(inbox, monkeypatch):
    from workers.jobs import sweep_outbox

    application, world = inbox
    order = claim_with_work_order(application, world)
    claim_id = order.claim_id
    to = work_orders.reply_address(order)
    with monkeypatch.context() as patched:
        patched.setattr("grc.inbound.processing.read_reply", _crash)
        response = post_raw_email(
            application.test_client(), _reply_to(order, "Travaux terminés."), to
        )
        assert response.status_code == 200
    [stored] = _stored()
    assert (stored.status, stored.attempts) == (InboundStatus.RECEIVED, 1)
    assert sweep_outbox() == 0  # still waiting before its second attempt
    _due_now(stored.id)
    assert sweep_outbox() == 1  # no five-minute grace for a retry: it is not in any queue
    [stored] = _stored()
    assert (stored.status, stored.attempts, stored.error) == (InboundStatus.APPLIED, 2, None)
    assert db.session.get(Claim, claim_id).status == ClaimStatus.RESOLVED


def _crash(*args, **kwargs):
    raise RuntimeError("reader crashed")


def test_a_tenant_loaded_in_upper_case_is_found_by_the_index_on_lower_email(inbox):
    """A bulk load (the ERP import, COPY) does not pass through the model's normalisation:
    the tenant is found by ``lower(email)``, which the index ``ix_tenants_email_lower`` serves."""
    application, world = inbox
    tenant = world.tenants["TIL-11"]
    db.session.execute(
        sa.update(Tenant).where(Tenant.id == tenant.id).values(email="Elodie.Lefevre@Example.ORG")
    )
    db.session.commit()
    eml = reply(
        to=f"contact@{INBOUND_DOMAIN}",
        sender="elodie.lefevre@example.org",
        subject="Fuite sous l'évier",
        text="Bonjour, j'ai une fuite sous l'évier depuis ce matin.\n\nMerci",
        date=datetime.now(UTC),
    )
    client = application.test_client()
    assert post_raw_email(client, eml, f"contact@{INBOUND_DOMAIN}").status_code == 200
    [stored] = _stored()
    assert (stored.status, stored.tenant_id) == (InboundStatus.INTAKE, tenant.id)

    if db.engine.dialect.name == "postgresql":
        # A table of a few rows is read whole anyway: forbid that to see what serves the query.
        db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = db.session.execute(
            sa.text("EXPLAIN SELECT id FROM tenants WHERE lower(email) = :address LIMIT 2"),
            {"address": "elodie.lefevre@example.org"},
        ).scalars()
        assert "ix_tenants_email_lower" in "\n".join(plan)
        db.session.rollback()
