"""Appending to a claim's timeline, the one way every use case does it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from grc.claims.models import Claim, ClaimEvent, EventKind, Visibility
from grc.db import insert_returning
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
    """Write one event on ``claim``'s timeline, at once, with one INSERT.

    The event names its claim by id rather than through the relationship, so the claim row
    is not marked as changed. It skips the unit of work: a claim's intake writes two or
    three events, which through a flush cost more than the rest of the request's writes. A
    timeline already loaded gets the event appended; one not loaded yet will read it from
    the database.
    """
    event = insert_returning(
        session,
        ClaimEvent,
        {
            "claim_id": claim.id,
            "kind": kind,
            "action": str(action) if action else None,
            "from_status": str(from_status) if from_status else None,
            "to_status": str(to_status) if to_status else None,
            "visibility": visibility,
            "body": body,
            "changes": changes,
            "actor_id": actor.id if actor is not None else None,
            "created_at": now,
        },
        {"claim": claim, "actor": actor},
    )
    if "events" not in sa.inspect(claim).unloaded:
        set_committed_value(claim, "events", [*claim.events, event])
    return event
