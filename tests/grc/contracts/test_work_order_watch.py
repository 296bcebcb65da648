"""The work-order watch reads only what is due and not yet alerted: each reminder and
escalation once per order and deadline, and a run with nothing new issues its selections
and nothing else, however many orders are open."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from freezegun import freeze_time

from grc.contracts.work_orders import watch_work_orders
from grc.extensions import db
from grc.messaging.models import OutboxMessage, Purpose
from tests.factories import claim_payload

TUESDAY_MORNING = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def _run(at: datetime) -> tuple[int, int]:
    report = watch_work_orders(db.session, at)
    db.session.commit()
    return report.reminders, report.escalations


def test_each_alert_once_and_a_run_with_nothing_new_reads_nothing(client, world, sent):
    with freeze_time(TUESDAY_MORNING):  # urgent leaks: taken within 1 h, done within 4 h
        for _ in range(3):
            response = client.post(
                "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
            )
            assert response.status_code == 201, response.json
    assert _run(TUESDAY_MORNING + timedelta(minutes=30)) == (0, 0)
    assert _run(TUESDAY_MORNING + timedelta(minutes=50)) == (3, 0)
    assert _run(TUESDAY_MORNING + timedelta(minutes=51)) == (0, 0)
    assert _run(TUESDAY_MORNING + timedelta(hours=3, minutes=10)) == (3, 3)
    assert _run(TUESDAY_MORNING + timedelta(hours=5)) == (0, 3)
    with statements() as seen:
        assert _run(TUESDAY_MORNING + timedelta(hours=6)) == (0, 0)
    selections = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert len(selections) == 4  # reminder and escalation, for each of the two deadlines
    assert all(s.lstrip().upper().startswith(("SELECT", "COMMIT")) for s in seen), seen
    keys = db.session.execute(
        sa.select(OutboxMessage.idempotency_key).where(
            OutboxMessage.purpose.in_([Purpose.WORK_ORDER_REMINDER, Purpose.WORK_ORDER_ESCALATION])
        )
    ).scalars()
    # Each order's two reminders; the unit's escalations of each run, one digest each.
    keys = list(keys)
    assert len([k for k in keys if ":reminder:" in k]) == 6
    assert len([k for k in keys if ":digest:" in k]) == 2
    assert len(keys) == 8
