"""Appending to a claim's timeline, the one way every use case does it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from grc.claims.models import Claim, ClaimEvent, EventKind, Visibility
from grc.db import insert_many, insert_rows
from grc.people.models import User


@dataclass(frozen=True)
class NewEvent:
    kind: EventKind
    visibility: Visibility = Visibility.INTERNAL
    body: str | None = None
    changes: dict[str, object] | None = None
    action: str | None = None
    from_status: str | None = None
    to_status: str | None = None


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
    """Write one event on ``claim``'s timeline: see ``add_events``."""
    new = NewEvent(kind, visibility, body, changes, action, from_status, to_status)
    [event] = add_events(session, claim, now, [new], actor=actor)
    return event


def add_events(
    session: Session,
    claim: Claim,
    now: datetime,
    events: list[NewEvent],
    *,
    actor: User | None = None,
) -> list[ClaimEvent]:
    """Write events on ``claim``'s timeline, in this order, at once, with one INSERT (one
    per event on SQLite, which does not promise to return rows in the order given).

    The events name their claim by id rather than through the relationship, so the claim
    row is not marked as changed. They skip the unit of work: a claim's intake writes two or
    three events, which through a flush cost more than the rest of the request's writes. A
    timeline already loaded gets the events appended; one not loaded yet will read them
    from the database.
    """
    written = insert_rows(
        session,
        ClaimEvent,
        [_event_row(claim.id, new, actor.id if actor is not None else None, now) for new in events],
        {"claim": claim, "actor": actor},
    )
    if "events" not in sa.inspect(claim).unloaded:
        set_committed_value(claim, "events", [*claim.events, *written])
    return written


def add_events_to_claims(
    session: Session, now: datetime, events: list[tuple[Claim, NewEvent]]
) -> None:
    """One event each on many claims' timelines (a watch's reminders), in one statement,
    with no actor; the events are not returned and timelines already loaded are not updated
    (a watch does not read them)."""
    if not events:
        return
    rows = [_event_row(claim.id, new, None, now) for claim, new in events]
    insert_many(session, cast("sa.Table", ClaimEvent.__table__), rows)  # a mapped class's Table


def _event_row(
    claim_id: int, new: NewEvent, actor_id: int | None, now: datetime
) -> dict[str, object]:
    return {
        "claim_id": claim_id,
        "kind": new.kind,
        "action": str(new.action) if new.action else None,
        "from_status": str(new.from_status) if new.from_status else None,
        "to_status": str(new.to_status) if new.to_status else None,
        "visibility": new.visibility,
        "body": new.body,
        "changes": new.changes,
        "actor_id": actor_id,
        "created_at": now,
    }
