"""Claims resolved at a given moment through the real operations, and what the survey job
and the outbox hold afterwards."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from grc.claims.lifecycle import Action
from grc.claims.models import Claim, IntakeChannel
from grc.claims.operations import NewClaim, TransitionRequest, create_claim, transition_claim
from grc.extensions import db
from grc.messaging.models import OutboxMessage, Purpose
from grc.surveys.models import Survey
from tests.factories import World

# Tuesday 10 March 2026, 10:00 in Paris.
TUESDAY = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
TENANT_NUMBER = "+33612345678"  # TIL-11


def resolved_claim(world: World, at: datetime, dwelling: str = "TIL-11") -> Claim:
    claim = create_claim(
        db.session,
        NewClaim(
            category="PLB-FUITE",
            channel=IntakeChannel.PHONE,
            description="Fuite sous l'évier.",
            dwelling_id=world.dwellings[dwelling].id,
        ),
        world.users["agent"],
        at,
    )
    worker = world.users["metz_tech"]
    transition_claim(db.session, claim, TransitionRequest(Action.START), worker, at)
    transition_claim(
        db.session, claim, TransitionRequest(Action.RESOLVE, "Joint changé."), worker, at
    )
    db.session.commit()
    return claim


def act(world: World, claim: Claim, action: Action, at: datetime, comment: str = "") -> None:
    transition_claim(
        db.session, claim, TransitionRequest(action, comment or None), world.users["metz_tech"], at
    )
    db.session.commit()


def surveys(claim: Claim | None = None) -> list[Survey]:
    db.session.expire_all()
    stmt = sa.select(Survey).order_by(Survey.id)
    if claim is not None:
        stmt = stmt.where(Survey.claim_id == claim.id)
    return list(db.session.execute(stmt).scalars())


def survey_messages(*purposes: Purpose) -> list[OutboxMessage]:
    wanted = purposes or (Purpose.SURVEY, Purpose.SURVEY_REMINDER, Purpose.SURVEY_CLARIFICATION)
    return list(
        db.session.execute(
            sa.select(OutboxMessage)
            .where(OutboxMessage.purpose.in_(wanted))
            .order_by(OutboxMessage.id)
        ).scalars()
    )
