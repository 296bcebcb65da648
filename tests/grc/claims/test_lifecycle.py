"""Every lifecycle action from every status, through the API: allowed ones move the claim,
refused ones answer 409 and change nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from grc.claims.models import Claim, ClaimEvent, ClaimStatus
from grc.extensions import db
from tests.grc.claims.helpers import claim_in_status

S = ClaimStatus
# Written from the lifecycle diagram, independently of grc.claims.lifecycle.
ALLOWED = {
    ("assign", S.RECEIVED): S.ASSIGNED,
    ("assign", S.ASSIGNED): S.ASSIGNED,
    ("assign", S.IN_PROGRESS): S.ASSIGNED,
    ("start", S.ASSIGNED): S.IN_PROGRESS,
    ("wait_tenant", S.ASSIGNED): S.WAITING_TENANT,
    ("wait_tenant", S.IN_PROGRESS): S.WAITING_TENANT,
    ("resume", S.WAITING_TENANT): None,  # back to where it was
    ("resolve", S.RECEIVED): S.RESOLVED,
    ("resolve", S.ASSIGNED): S.RESOLVED,
    ("resolve", S.IN_PROGRESS): S.RESOLVED,
    ("reopen", S.RESOLVED): S.IN_PROGRESS,
    ("close", S.RESOLVED): S.CLOSED,
    ("cancel", S.RECEIVED): S.CANCELLED,
    ("cancel", S.ASSIGNED): S.CANCELLED,
    ("cancel", S.IN_PROGRESS): S.CANCELLED,
    ("cancel", S.WAITING_TENANT): S.CANCELLED,
}
ACTIONS = ["assign", "start", "wait_tenant", "resume", "resolve", "reopen", "cancel", "close"]


def _status_events() -> int:
    """Timeline events other than the messages and work-order notes they may cause."""
    return db.session.scalar(
        sa.select(sa.func.count(ClaimEvent.id)).where(
            ClaimEvent.kind.not_in(("message", "work_order"))
        )
    )


def _body(action: str, world) -> dict:
    body: dict = {"action": action, "comment": "Fait le nécessaire."}
    if action == "assign":
        body["unit_id"] = world.units["METZ-proximite"].id
    return body


@pytest.mark.parametrize("status", list(S), ids=str)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_from_every_status(client, world, action, status):
    claim = claim_in_status(world, status)
    before_status = claim.status
    events_before = _status_events()
    headers = world.headers("metz_tech")
    if action == "assign" and status == S.RECEIVED:
        headers = world.headers("agent")

    response = client.post(
        f"/api/v1/claims/{claim.id}/transitions", json=_body(action, world), headers=headers
    )

    db.session.expire_all()
    stored = db.session.get(Claim, claim.id)
    events_after = _status_events()
    if (action, status) in ALLOWED:
        expected = ALLOWED[(action, status)] or S.ASSIGNED  # claims were paused from assigned
        assert response.status_code == 200, response.json
        assert response.json["status"] == expected
        assert stored.status == expected
        assert events_after == events_before + 1
        last = [e for e in response.json["events"] if e["kind"] not in ("message", "work_order")][
            -1
        ]
        assert (last["action"], last["from_status"], last["to_status"]) == (
            action,
            str(status),
            str(expected),
        )
    else:
        assert response.status_code == 409, response.json
        assert (
            f"'{action}' is not possible on a claim that is '{status}'" in response.json["message"]
        )
        assert stored.status == before_status
        assert events_after == events_before


def test_resume_goes_back_to_in_progress(client, world):
    claim = claim_in_status(world, S.IN_PROGRESS)
    headers = world.headers("metz_tech")
    client.post(
        f"/api/v1/claims/{claim.id}/transitions",
        json={"action": "wait_tenant", "comment": "Êtes-vous disponible mardi ?"},
        headers=headers,
    )
    response = client.post(
        f"/api/v1/claims/{claim.id}/transitions", json={"action": "resume"}, headers=headers
    )
    assert response.json["status"] == "in_progress"
    db.session.expire_all()
    stored = db.session.get(Claim, claim.id)
    assert stored.paused_at is None
    assert stored.status_before_pause is None


def test_agent_resolving_at_once_is_first_contact_resolution(client, world):
    claim = claim_in_status(world, S.ASSIGNED, dwelling="PARC-11", category="LOC-AVIS")
    response = client.post(
        f"/api/v1/claims/{claim.id}/transitions",
        json={"action": "resolve", "comment": "Avis expliqué au téléphone."},
        headers=world.headers("agent"),
    )
    assert response.status_code == 200
    assert response.json["first_contact_resolution"] is True
    assert response.json["resolution"] == "Avis expliqué au téléphone."
    assert response.json["resolved_at"] is not None


def test_unit_resolution_after_work_is_not_first_contact(client, world):
    claim = claim_in_status(world, S.IN_PROGRESS)
    response = client.post(
        f"/api/v1/claims/{claim.id}/transitions",
        json={"action": "resolve", "comment": "Fuite réparée."},
        headers=world.headers("metz_tech"),
    )
    assert response.json["first_contact_resolution"] is False


def test_create_and_resolve_during_the_call(client, world):
    response = client.post(
        "/api/v1/claims",
        json={
            "category": "LOC-ATTESTATION",
            "channel": "phone",
            "description": "Attestation de loyer",
            "dwelling_id": world.dwellings["PARC-12"].id,
            "resolve_now": True,
            "resolution": "Attestation envoyée par courriel.",
        },
        headers=world.headers("agent"),
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "resolved"
    assert body["first_contact_resolution"] is True
    assert [e["kind"] for e in body["events"]] == ["created", "status_changed", "message"]
    assert body["route"]["unit"]["code"] == "WOIPPY-gestion_locative"


def test_reopen_clears_resolution_and_fcr(client, world):
    claim = claim_in_status(world, S.RESOLVED)
    response = client.post(
        f"/api/v1/claims/{claim.id}/transitions",
        json={"action": "reopen", "comment": "La fuite a repris."},
        headers=world.headers("agent"),
    )
    assert response.status_code == 200
    assert response.json["resolved_at"] is None
    assert response.json["status"] == "in_progress"


def test_reroute_to_another_unit_records_before_and_after(client, world):
    claim = claim_in_status(world, S.IN_PROGRESS)
    target = world.units["tranquillite"]
    response = client.post(
        f"/api/v1/claims/{claim.id}/transitions",
        json={"action": "assign", "unit_id": target.id, "comment": "Relève de la tranquillité."},
        headers=world.headers("metz_tech"),
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert body["route"]["kind"] == "unit"
    assert body["route"]["reason_code"] == "manual"
    assert body["route"]["contractor"] is None
    assert body["route"]["unit"]["id"] == target.id
    changes = body["events"][-1]["changes"]
    assert changes["unit_id"] == [world.units["METZ-technique"].id, target.id]
    assert changes["contractor_id"] == [world.contractors["MULTI"].id, None]
    # The Metz unit no longer sees the claim it handed over.
    again = client.get(f"/api/v1/claims/{claim.id}", headers=world.headers("metz_tech"))
    assert again.status_code == 404


def test_assign_from_received_routes_automatically(client, world):
    claim = claim_in_status(world, S.RECEIVED)
    response = client.post(
        f"/api/v1/claims/{claim.id}/transitions",
        json={"action": "assign"},
        headers=world.headers("agent"),
    )
    assert response.status_code == 200
    assert response.json["route"]["reason_code"] == "contract"


def test_database_refuses_inconsistent_states(app_ctx, world):
    claim = claim_in_status(world, S.ASSIGNED)
    claim.status = S.RESOLVED  # without resolved_at
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_timeline_is_append_only(app_ctx, world, backend):
    claim = claim_in_status(world, S.ASSIGNED)
    event = (
        db.session.execute(sa.select(ClaimEvent).where(ClaimEvent.claim_id == claim.id))
        .scalars()
        .first()
    )
    event.body = "rewritten"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    if backend == "postgresql":
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(sa.text("DELETE FROM claim_events"))
        db.session.rollback()
