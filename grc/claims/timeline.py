"""Appending to a claim's timeline, the one way every use case does it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from grc.claims.models import Claim, ClaimEvent, EventKind, Visibility
from grc.people.models import User


def add_event(
    session: Session,
    claim: Claim,
    kind: EventKind,
    now: datetime,
    *,
    actor: User | None = None,
    visibility: Visibility = Visibility.INTERNAL,
    body: str | None = None,
    changes: dict[str, object] | None = None,
    action: str | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
) -> ClaimEvent:
    """Add one event to ``claim``'s timeline; it is written by the caller's next flush.

    The event names its claim by id rather than through the relationship, so the claim row
    is not marked as changed: a flush of a few events stays a flush of a few rows, instead
    of visiting every relationship of the claim. A timeline already loaded gets the event
    appended; one not loaded yet will read it from the database.
    """
    event = ClaimEvent(
        claim_id=claim.id,
        kind=kind,
        action=str(action) if action else None,
        from_status=str(from_status) if from_status else None,
        to_status=str(to_status) if to_status else None,
        visibility=visibility,
        body=body,
        changes=changes,
        actor_id=actor.id if actor is not None else None,
        created_at=now,
    )
    # Navigable at once, without the backref that would mark the claim as changed.
    set_committed_value(event, "claim", claim)
    set_committed_value(event, "actor", actor)
    session.add(event)
    if "events" not in sa.inspect(claim).unloaded:
        set_committed_value(claim, "events", [*claim.events, event])
    return event
