"""What one intake asks of the database: the claim comes back from its INSERT with every
object it refers to already in hand, and nothing is read after the commit (a lazy load
there would open a second transaction per request)."""

from __future__ import annotations

import gc

import pytest
import sqlalchemy as sa

from grc.claims.models import Claim, IntakeChannel
from grc.claims.operations import NewClaim, create_claim
from grc.contracts import work_orders
from grc.contracts.models import WorkOrder
from grc.extensions import db
from tests.factories import claim_payload


@pytest.mark.parametrize("dwelling", ["TIL-11", "PARC-11"])  # a contract's, a unit's
def test_a_new_claim_has_every_relation_in_hand(app_ctx, world, sent, dwelling, monkeypatch):
    orders: list[WorkOrder] = []
    real_open = work_orders.open_work_order
    monkeypatch.setattr(
        work_orders, "open_work_order", lambda *args: orders.append(real_open(*args))
    )
    agent = db.session.merge(world.users["agent"])
    claim = create_claim(
        db.session,
        NewClaim(
            category="PLB-FUITE",
            channel=IntakeChannel.PHONE,
            description="Fuite sous l'évier.",
            dwelling_id=world.dwellings[dwelling].id,
        ),
        agent,
    )
    relations = {r.key for r in sa.inspect(Claim).relationships}
    assert relations & sa.inspect(claim).unloaded == set()
    assert claim.category.code == "PLB-FUITE"
    assert claim.created_by is agent
    assert claim.agency is claim.residence.agency
    if dwelling == "TIL-11":  # covered by the multiservice contract
        (order,) = orders
        assert {"claim", "contract", "contractor"} & sa.inspect(order).unloaded == set()
        assert order.claim is claim
        assert order.contractor is claim.contractor
    else:
        assert orders == []


def test_the_intake_request_reads_nothing_after_its_commit(app_ctx, world, sent):
    events: list[str] = []

    def on_statement(conn: sa.Connection, cursor: object, statement: str, *args: object) -> None:
        events.append(" ".join(statement.split()[:4]))

    def on_commit(conn: sa.Connection) -> None:
        events.append("COMMIT")
        gc.collect()  # what only the session's identity map holds may be gone from here on

    sa.event.listen(db.engine, "before_cursor_execute", on_statement)
    sa.event.listen(db.engine, "commit", on_commit)
    try:
        response = app_ctx.test_client().post(
            "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
        )
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", on_statement)
        sa.event.remove(db.engine, "commit", on_commit)
    assert response.status_code == 201, response.json
    after = events[events.index("COMMIT") + 1 :]
    # Only the in-process delivery of the acknowledgement runs after it, on the outbox.
    assert [e for e in after if e != "COMMIT" and "outbox_messages" not in e] == [], events
