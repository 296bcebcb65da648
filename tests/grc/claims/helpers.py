"""Puts claims into a given lifecycle status through the real operations."""

from __future__ import annotations

from grc.claims.lifecycle import Action
from grc.claims.models import Claim, ClaimStatus, IntakeChannel
from grc.claims.operations import NewClaim, TransitionRequest, create_claim, transition_claim
from grc.extensions import db
from tests.factories import World

PATHS: dict[ClaimStatus, list[TransitionRequest]] = {
    ClaimStatus.ASSIGNED: [],
    ClaimStatus.IN_PROGRESS: [TransitionRequest(Action.START)],
    ClaimStatus.WAITING_TENANT: [TransitionRequest(Action.WAIT_TENANT, "Photo du joint ?")],
    ClaimStatus.RESOLVED: [
        TransitionRequest(Action.START),
        TransitionRequest(Action.RESOLVE, "Joint changé."),
    ],
    ClaimStatus.CLOSED: [
        TransitionRequest(Action.START),
        TransitionRequest(Action.RESOLVE, "Joint changé."),
        TransitionRequest(Action.CLOSE),
    ],
    ClaimStatus.CANCELLED: [TransitionRequest(Action.CANCEL, "Doublon de R-2026-000001.")],
}


def claim_in_status(
    world: World, status: ClaimStatus, dwelling: str = "TIL-11", category: str = "PLB-FUITE"
) -> Claim:
    claim = create_claim(
        db.session,
        NewClaim(
            category=category,
            channel=IntakeChannel.PHONE,
            description="Fuite sous l'évier.",
            dwelling_id=world.dwellings[dwelling].id,
        ),
        world.users["agent"],
    )
    if status == ClaimStatus.RECEIVED:
        # Claims registered without routing (e.g. an inbound letter awaiting triage) start here.
        claim.status = ClaimStatus.RECEIVED
    else:
        worker = world.users["metz_tech"] if claim.unit.code == "METZ-technique" else None
        for step in PATHS[status]:
            assert worker is not None, "paths are written for Metz claims"
            transition_claim(db.session, claim, step, worker)
    db.session.commit()
    assert claim.status == status
    return claim
