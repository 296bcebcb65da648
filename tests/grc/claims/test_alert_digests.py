"""A watch run tells each staff address once: one claim is that claim's own e-mail, several
are one digest naming them, nearest deadline first; a claim is alerted by one run only, even
when two runs meet."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import current_app
from freezegun import freeze_time
from sqlalchemy.orm import Session

from grc.claims import notify
from grc.claims.sla_watch import watch_sla
from grc.contracts.work_orders import watch_work_orders
from grc.extensions import db
from grc.messaging.models import OutboxMessage, Purpose
from grc.people.models import Role
from tests.factories import claim_payload
from tests.locks import someone_waits_on_a_lock

TUESDAY_MORNING = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 10:00 in Paris
LATE = TUESDAY_MORNING + timedelta(hours=5)  # urgent leaks: 4 calendar hours


def _create(client, world, at: datetime) -> str:
    with freeze_time(at):
        response = client.post(
            "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
        )
    assert response.status_code == 201, response.json
    return response.json["reference"]


def _messages(purpose: Purpose) -> list[OutboxMessage]:
    return list(
        db.session.execute(
            sa.select(OutboxMessage)
            .where(OutboxMessage.purpose == purpose)
            .order_by(OutboxMessage.id)
        ).scalars()
    )


@pytest.fixture
def public_url(app_ctx):
    settings = current_app.extensions["grc_settings"]
    current_app.extensions["grc_settings"] = replace(
        settings, public_url="https://grc.bailleur.test"
    )
    yield "https://grc.bailleur.test"
    current_app.extensions["grc_settings"] = settings


def test_breaches_of_one_run_are_one_digest_per_manager(client, world, sent, public_url):
    world.add_user("manager2", Role.MANAGER)
    db.session.commit()
    references = [
        _create(client, world, TUESDAY_MORNING + timedelta(minutes=minutes))
        for minutes in (20, 0, 10)
    ]
    report = watch_sla(db.session, LATE)
    db.session.commit()
    assert (report.breaches, report.messages) == (3, 2)

    digests = _messages(Purpose.SLA_BREACH)
    assert sorted(m.recipient for m in digests) == [
        "manager2@bailleur.test",
        "manager@bailleur.test",
    ]
    for digest in digests:
        assert digest.claim_id is None  # about several claims
        assert digest.subject == "3 demandes ont dépassé leur délai de résolution"
        # Nearest deadline first: the claims in the order they were registered.
        first, second, third = (digest.body_text.index(r) for r in references)
        assert second < third < first
        assert "unité Technique Metz" in digest.body_text
        assert "échéance le 10/03/2026 à 14h00" in digest.body_text
        assert "https://grc.bailleur.test/claims" in digest.body_text
        assert references[1] in digest.body_html
    assert digests[0].body_text == digests[1].body_text

    # Nothing new: nothing sent. One new breach: that claim's own e-mail, as before.
    assert watch_sla(db.session, LATE + timedelta(minutes=1)).messages == 0
    db.session.commit()
    one = _create(client, world, TUESDAY_MORNING + timedelta(hours=2))
    report = watch_sla(db.session, TUESDAY_MORNING + timedelta(hours=6, minutes=1))
    db.session.commit()
    assert (report.breaches, report.messages) == (1, 2)
    singles = _messages(Purpose.SLA_BREACH)[2:]
    assert {m.subject for m in singles} == {f"[{one}] Délai dépassé (Fuite d'eau active)"}
    assert {m.claim_id for m in singles} != {None}


def test_warnings_go_to_the_unit_in_one_digest_with_its_queue(client, world, sent, public_url):
    world.units["METZ-technique"].email = "technique.metz@bailleur.test"
    db.session.commit()
    references = [_create(client, world, TUESDAY_MORNING) for _ in range(2)]
    report = watch_sla(db.session, TUESDAY_MORNING + timedelta(hours=3, minutes=30))
    db.session.commit()
    assert (report.warnings, report.messages) == (2, 1)
    (digest,) = _messages(Purpose.SLA_WARNING)
    assert digest.recipient == "technique.metz@bailleur.test"
    assert digest.subject == "2 demandes ont consommé 80 % de leur délai"
    assert all(reference in digest.body_text for reference in references)
    assert "https://grc.bailleur.test/unit/METZ-technique" in digest.body_text


def test_a_long_digest_names_the_first_claims_and_counts_the_rest(client, world, sent, monkeypatch):
    monkeypatch.setattr(notify, "DIGEST_LINES", 2)
    references = [
        _create(client, world, TUESDAY_MORNING + timedelta(minutes=minutes)) for minutes in range(3)
    ]
    watch_sla(db.session, LATE)
    db.session.commit()
    (digest,) = _messages(Purpose.SLA_BREACH)
    assert references[0] in digest.body_text
    assert references[1] in digest.body_text
    assert references[2] not in digest.body_text
    assert "… et 1 autre." in digest.body_text
    # Without a public address, no link rather than a broken one.
    assert "http" not in digest.body_text


def test_escalations_of_one_run_are_one_digest_per_unit_address(client, world, sent):
    world.units["METZ-technique"].email = "technique.metz@bailleur.test"
    db.session.commit()
    references = [_create(client, world, TUESDAY_MORNING) for _ in range(3)]
    assert watch_work_orders(db.session, TUESDAY_MORNING + timedelta(minutes=50)).reminders == 3
    report = watch_work_orders(db.session, TUESDAY_MORNING + timedelta(hours=1, minutes=1))
    db.session.commit()
    assert report.escalations == 3
    (digest,) = _messages(Purpose.WORK_ORDER_ESCALATION)
    assert digest.recipient == "technique.metz@bailleur.test"
    assert digest.subject == "3 ordres de service ont dépassé leur délai de prise en charge"
    assert all(reference in digest.body_text for reference in references)
    assert "Multiservices Lorraine" in digest.body_text
    # The contractor's own reminders stay one per order: each has its reply thread.
    assert len(_messages(Purpose.WORK_ORDER_REMINDER)) == 3


def test_two_runs_at_once_alert_each_claim_once(app_ctx, client, world, sent, backend):
    """The second run waits for the first's alerts to commit and then finds them taken:
    the alerts table's key decides, not a read beforehand."""
    if backend != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL only")
    references = [_create(client, world, TUESDAY_MORNING) for _ in range(3)]
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's app
    reports = {}

    def second_run() -> None:
        with app.app_context(), Session(db.engine) as second:
            reports["second"] = watch_sla(second, LATE)
            second.commit()

    with Session(db.engine) as first:
        reports["first"] = watch_sla(first, LATE)  # its alerts written, not committed
        thread = threading.Thread(target=second_run)
        thread.start()
        if not someone_waits_on_a_lock(db.engine):
            pytest.fail("the second run never waited for the first")
        first.commit()
        thread.join(timeout=30)
    assert reports["first"].breaches == 3
    assert reports["second"].breaches == 0
    assert reports["second"].messages == 0
    db.session.expire_all()
    (digest,) = _messages(Purpose.SLA_BREACH)
    assert all(digest.body_text.count(reference) == 1 for reference in references)
