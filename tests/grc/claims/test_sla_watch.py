"""The SLA watch reads only what is due and not yet alerted: its SQL selection agrees with the
business calendar, a run with nothing new reads nothing, and a moved deadline is alerted
again. What the alerts say and to whom is in test_notify.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from freezegun import freeze_time

from grc.claims import catalogue_cache
from grc.claims.models import Claim
from grc.claims.sla_watch import _warning_reached, _warning_window, watch_sla
from grc.extensions import db
from grc.messaging.models import OutboxMessage, Purpose
from grc.people.models import Role, User
from tests.factories import claim_payload

TUESDAY_MORNING = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 10:00 in Paris
FRIDAY_AFTERNOON = datetime(2026, 3, 13, 14, 0, tzinfo=UTC)  # 15:00 in Paris


def _create(client, world, at: datetime, category: str = "PLB-FUITE") -> int:
    with freeze_time(at):
        response = client.post(
            "/api/v1/claims",
            json=claim_payload(world, category=category),
            headers=world.headers("agent"),
        )
    assert response.status_code == 201, response.json
    return response.json["id"]


def _transition(client, world, claim_id: int, at: datetime, **body) -> None:
    with freeze_time(at):
        response = client.post(
            f"/api/v1/claims/{claim_id}/transitions", json=body, headers=world.headers("metz_tech")
        )
    assert response.status_code == 200, response.json


def _run(at: datetime):
    report = watch_sla(db.session, at)
    db.session.commit()
    return report.checked, report.warnings, report.breaches


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.lstrip().upper())

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def test_a_run_with_nothing_new_reads_nothing(client, world, sent):
    for _ in range(3):
        _create(client, world, TUESDAY_MORNING)  # urgent: 4 calendar hours
    assert _run(TUESDAY_MORNING + timedelta(hours=1)) == (0, 0, 0)  # not near its deadline
    assert _run(TUESDAY_MORNING + timedelta(hours=3, minutes=30)) == (3, 3, 0)
    assert _run(TUESDAY_MORNING + timedelta(hours=3, minutes=31)) == (0, 0, 0)
    assert _run(TUESDAY_MORNING + timedelta(hours=5)) == (3, 0, 3)
    with statements() as seen:
        assert _run(TUESDAY_MORNING + timedelta(hours=6)) == (0, 0, 0)
    # The breaches, the catalogue, the departments and the warnings: whatever the claims.
    assert len([s for s in seen if s.startswith("SELECT")]) == 4
    assert all(s.startswith(("SELECT", "COMMIT")) for s in seen), seen


def test_the_warning_window_in_sql_agrees_with_the_business_calendar(client, world, sent):
    """A claim on business hours (18 h) warned when 3 h 36 of business time are left: the
    selection, an instant per calendar and policy, picks exactly the claims the calendar
    says, minute by minute across evenings, a weekend and the closing time itself."""
    ids = [
        _create(client, world, TUESDAY_MORNING, "PLB-ENGORG"),
        _create(client, world, FRIDAY_AFTERNOON, "PLB-ENGORG"),
        _create(client, world, FRIDAY_AFTERNOON + timedelta(hours=2, minutes=30), "PLB-ENGORG"),
    ]
    claims = [db.session.get(Claim, claim_id) for claim_id in ids]
    tick = timedelta(microseconds=1)
    closings = [  # 17:30 in Paris, each day, and either side of it
        datetime(2026, 3, day, 16, 30, tzinfo=UTC) + shift
        for day in range(10, 18)
        for shift in (-tick, timedelta(0), tick)
    ]
    deadlines = [  # each deadline, and 3 h 36 before it (the same day for the third one)
        c.resolution_due - before + shift
        for c in claims
        for before in (timedelta(0), timedelta(hours=3, minutes=36))
        for shift in (-tick, timedelta(0), tick)
    ]
    grid = [TUESDAY_MORNING + timedelta(minutes=13 * step) for step in range(900)]
    moments = sorted(grid + closings + deadlines)
    for now in moments:
        catalogue = catalogue_cache.catalogue(db.session)
        window = _warning_window(db.session, catalogue, now)
        selected = set(
            db.session.execute(
                sa.select(Claim.id).where(Claim.id.in_(ids), Claim.resolution_due > now, window)
            ).scalars()
        )
        expected = {
            c.id for c in claims if c.resolution_due > now and _warning_reached(catalogue, c, now)
        }
        assert selected == expected, now


def test_a_moved_deadline_is_warned_again_and_a_repeat_is_not(client, world, sent):
    claim_id = _create(client, world, TUESDAY_MORNING)
    assert _run(TUESDAY_MORNING + timedelta(hours=3, minutes=30)) == (1, 1, 0)
    # Paused with 25 minutes left, resumed an hour later: a new deadline, inside the warning.
    _transition(
        client,
        world,
        claim_id,
        TUESDAY_MORNING + timedelta(hours=3, minutes=35),
        action="wait_tenant",
        comment="Accès ?",
    )
    assert _run(TUESDAY_MORNING + timedelta(hours=4, minutes=30)) == (0, 0, 0)  # paused
    _transition(
        client, world, claim_id, TUESDAY_MORNING + timedelta(hours=4, minutes=35), action="resume"
    )
    assert _run(TUESDAY_MORNING + timedelta(hours=4, minutes=40)) == (1, 1, 0)
    assert _run(TUESDAY_MORNING + timedelta(hours=4, minutes=45)) == (0, 0, 0)
    warnings = db.session.execute(
        sa.select(OutboxMessage.idempotency_key).where(OutboxMessage.purpose == Purpose.SLA_WARNING)
    ).scalars()
    assert len(set(warnings)) == 2


def test_a_breach_with_no_manager_to_tell_waits_for_one(client, world, sent):
    _create(client, world, TUESDAY_MORNING)
    db.session.execute(sa.update(User).where(User.role == Role.MANAGER).values(active=False))
    db.session.commit()
    late = TUESDAY_MORNING + timedelta(hours=5)
    assert _run(late) == (1, 0, 0)
    assert _run(late + timedelta(minutes=1)) == (1, 0, 0)  # still nobody told: still due
    world.add_user("manager2", Role.MANAGER)
    db.session.commit()
    assert _run(late + timedelta(minutes=2)) == (1, 0, 1)
    assert _run(late + timedelta(minutes=3)) == (0, 0, 0)
