"""Puts claims into a given lifecycle status through the real operations; files an e-mail
with attachments on a claim as processing leaves it."""

from __future__ import annotations

from grc.claims.lifecycle import Action
from grc.claims.models import Claim, ClaimStatus, EventKind, IntakeChannel
from grc.claims.operations import NewClaim, TransitionRequest, create_claim, transition_claim
from grc.claims.timeline import NewEvent, add_events
from grc.db import utcnow
from grc.extensions import db
from grc.inbound.models import InboundAttachment, InboundEmail, InboundStatus
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


def email_on_claim(
    claim: Claim,
    attachments: list[tuple[str, str, bytes | None]],
    *,
    kind: EventKind = EventKind.CONTRACTOR_REPLY,
    sender: str | None = None,
) -> InboundEmail:
    """An e-mail filed on ``claim`` with ``attachments`` (name, type, bytes or None when
    refused), named by a timeline event as processing writes it."""
    email = InboundEmail(
        content_type="multipart/form-data",
        raw_post=b"",
        status=InboundStatus.APPLIED,
        from_address=sender or "contact@multiservices.test",
        subject=f"RE: {claim.reference}",
        claim_id=claim.id,
    )
    email.attachments = [
        InboundAttachment(
            filename=name,
            content_type=content_type,
            size=len(data) if data is not None else 25_000_000,
            data=data,
            refused=None if data is not None else "type not accepted",
        )
        for name, content_type, data in attachments
    ]
    db.session.add(email)
    db.session.flush()
    body = (
        "Message du locataire par e-mail : voici la facture."
        if kind == EventKind.COMMENT
        else "Réponse du prestataire : devis joint."
    )
    add_events(
        db.session,
        claim,
        utcnow(),
        [NewEvent(kind, body=body, changes={"inbound_email_id": email.id})],
    )
    db.session.commit()
    return email
