"""An escalated work order is flagged for its unit, and its escalation e-mail carries only
the photos link: the links that confirm the order are the contractor's. (Several orders
escalated in one run make one digest: test_alert_digests.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from freezegun import freeze_time

from grc.contracts.models import WorkOrder
from grc.contracts.work_orders import watch_work_orders
from grc.extensions import db
from grc.messaging.models import OutboxMessage, Purpose
from tests.factories import claim_payload

TUESDAY_MORNING = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def test_escalated_orders_are_flagged_and_their_e_mail_has_the_photos_link_only(
    client, world, sent
):
    for minutes in (0, 30):  # urgent leaks: taken within 1 h, done within 4 h
        with freeze_time(TUESDAY_MORNING + timedelta(minutes=minutes)):
            response = client.post(
                "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
            )
            assert response.status_code == 201, response.json
    flagged = sa.select(sa.func.count()).where(WorkOrder.needs_attention)
    assert db.session.execute(flagged).scalar_one() == 0

    # One order past its deadline per run: each its own e-mail.
    for minutes in (61, 91):
        report = watch_work_orders(db.session, TUESDAY_MORNING + timedelta(minutes=minutes))
        db.session.commit()
        assert report.escalations == 1

    db.session.expire_all()
    assert db.session.execute(flagged).scalar_one() == 2
    bodies = (
        db.session.execute(
            sa.select(OutboxMessage.body_text).where(
                OutboxMessage.purpose == Purpose.WORK_ORDER_ESCALATION
            )
        )
        .scalars()
        .all()
    )
    assert len(bodies) == 2
    for body in bodies:
        assert "/photos" in body
        assert body.count("/wo/") == 1
