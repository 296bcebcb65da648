"""First-contact resolution only where the catalogue allows it: an urgent leak is never
"resolved" on the phone without anyone going there."""

from __future__ import annotations

import sqlalchemy as sa

from grc.claims.models import Claim, ClaimEvent, ClaimStatus
from grc.contracts.models import WorkOrder
from grc.extensions import db
from grc.messaging.models import OutboxMessage
from tests.factories import claim_payload
from tests.grc.claims.helpers import claim_in_status


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_resolving_an_urgent_leak_at_intake_is_refused(client, world):
    response = client.post(
        "/api/v1/claims",
        json=claim_payload(world, resolve_now=True, resolution="Robinet fermé au téléphone."),
        headers=world.headers("agent"),
    )
    assert response.status_code == 409, response.json
    assert "First-contact resolution is not possible" in response.json["message"]
    assert "PLB-FUITE" in response.json["message"]
    # Nothing written: no claim, no event, no work order, no message.
    assert [_count(m) for m in (Claim, ClaimEvent, WorkOrder, OutboxMessage)] == [0, 0, 0, 0]


def test_an_agent_resolving_an_assigned_leak_is_refused(client, world):
    claim = claim_in_status(world, ClaimStatus.ASSIGNED)  # PLB-FUITE, with its work order
    response = client.post(
        f"/api/v1/claims/{claim.id}/transitions",
        json={"action": "resolve", "comment": "Le locataire dit que ça ne coule plus."},
        headers=world.headers("agent"),
    )
    assert response.status_code == 409, response.json
    assert (
        "First-contact resolution is not possible for category 'PLB-FUITE'"
        in (response.json["message"])
    )
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status == ClaimStatus.ASSIGNED


def test_the_unit_still_resolves_a_leak_it_handled(client, world):
    claim = claim_in_status(world, ClaimStatus.ASSIGNED)
    response = client.post(
        f"/api/v1/claims/{claim.id}/transitions",
        json={"action": "resolve", "comment": "Joint changé par notre technicien."},
        headers=world.headers("metz_tech"),
    )
    assert response.status_code == 200, response.json
    assert response.json["first_contact_resolution"] is False


def test_a_question_is_still_resolved_during_the_call(client, world):
    response = client.post(
        "/api/v1/claims",
        json=claim_payload(
            world,
            "LOC-CHARGES",
            description="Question sur la régularisation des charges.",
            resolve_now=True,
            resolution="Décompte expliqué ligne par ligne.",
        ),
        headers=world.headers("agent"),
    )
    assert response.status_code == 201, response.json
    assert response.json["first_contact_resolution"] is True
