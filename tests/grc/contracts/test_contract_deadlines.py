"""The promises agree: a contract's deadlines follow the claim's priority, and an order that
gives the contractor longer than the claim's own deadline says so, on the order, in its
e-mail and on the claim's timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from grc.claims.models import ClaimEvent, EventKind
from grc.contracts.models import WorkOrder
from grc.extensions import db
from grc.messaging.models import OutboxMessage, Purpose
from tests.factories import claim_payload


def _create(client, world, **overrides) -> dict:
    response = client.post(
        "/api/v1/claims", json=claim_payload(world, **overrides), headers=world.headers("agent")
    )
    assert response.status_code == 201, response.json
    return response.json


def _order(claim_id: int) -> WorkOrder:
    db.session.expire_all()
    return db.session.execute(
        sa.select(WorkOrder).where(WorkOrder.claim_id == claim_id)
    ).scalar_one()


def _order_email(claim_id: int) -> OutboxMessage:
    return db.session.execute(
        sa.select(OutboxMessage).where(
            OutboxMessage.claim_id == claim_id, OutboxMessage.purpose == Purpose.WORK_ORDER
        )
    ).scalar_one()


def test_an_urgent_leak_gets_the_contracts_emergency_deadlines(client, world):
    claim = _create(client, world)  # PLB-FUITE: urgent, resolved within 4 calendar hours
    assert claim["priority"] == "urgent"
    order = _order(claim["id"])
    # Not the 72 hours of standard work: made safe within 4 hours, taken within 1.
    assert order.acknowledge_due - order.created_at == timedelta(hours=1)
    assert order.complete_due - order.created_at == timedelta(hours=4)
    assert order.complete_due <= order.claim.resolution_due
    assert not order.beyond_claim_deadline
    assert "Attention" not in _order_email(claim["id"]).body_text


@pytest.mark.parametrize(
    ("priority", "hours"), [("urgent", (1, 4)), ("high", (2, 24)), ("normal", (4, 72))]
)
def test_the_order_follows_the_claims_priority(client, world, priority, hours):
    # A blocked drain (PRIO policy); the agent may raise or lower the priority.
    claim = _create(client, world, category="PLB-ENGORG", priority=priority)
    order = _order(claim["id"])
    assert (
        order.acknowledge_due - order.created_at,
        order.complete_due - order.created_at,
    ) == (timedelta(hours=hours[0]), timedelta(hours=hours[1]))


def test_an_order_promising_later_than_the_claim_says_so_everywhere(client, world):
    # A leak the agent marked "normal": the contract gives 72 h, the claim's SLA 4 h.
    claim = _create(client, world, priority="normal")
    order = _order(claim["id"])
    assert order.complete_due > order.claim.resolution_due
    assert order.beyond_claim_deadline

    api = client.get(
        f"/api/v1/work-orders?claim_id={claim['id']}", headers=world.headers("metz_tech")
    ).json
    assert api[0]["beyond_claim_deadline"] is True

    email = _order_email(claim["id"]).body_text
    assert "Attention : le locataire attend une résolution avant le" in email

    events = db.session.execute(
        sa.select(ClaimEvent).where(
            ClaimEvent.claim_id == claim["id"], ClaimEvent.kind == EventKind.WORK_ORDER
        )
    ).scalars()
    [warning] = [e for e in events if (e.body or "").startswith("Attention")]
    assert "après l'échéance de résolution de la demande" in warning.body
    assert warning.changes["work_order_id"] == order.id
    detail = client.get(f"/api/v1/claims/{claim['id']}", headers=world.headers("agent")).json
    assert any("après l'échéance de résolution" in (e["body"] or "") for e in detail["events"])


def test_contract_deadlines_are_checked_by_the_database(client, world):
    contract = world.contracts["MULTI"]
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(
            sa.text("UPDATE contracts SET urgent_complete_hours = 0 WHERE id = :id"),
            {"id": contract.id},
        )
    db.session.rollback()
