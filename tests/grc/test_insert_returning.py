"""insert_returning: one INSERT, nothing read back but what the database computes, and an
object that holds exactly what a SELECT of the row would have given."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from grc.claims.models import ClaimEvent, EventKind, Visibility
from grc.db import insert_returning, insert_rows
from grc.extensions import db
from tests.grc.claims.test_timeline import new_claim_id, statements_during

PARIS = ZoneInfo("Europe/Paris")


def _write(claim_id: int, **overrides):
    values = {
        "claim_id": claim_id,
        "kind": "comment",  # a plain string, as some callers give it
        "action": None,
        "from_status": None,
        "to_status": None,
        "visibility": Visibility.INTERNAL,
        "body": "Appel du locataire.",
        "changes": {"unit_id": [3, 7]},
        "actor_id": None,
        "created_at": datetime(2026, 11, 24, 9, 30, tzinfo=PARIS),
    } | overrides
    added: list[ClaimEvent] = []
    written = statements_during(
        lambda: added.append(insert_returning(db.session, ClaimEvent, values, {"actor": None}))
    )
    return added[0], written


def test_the_row_is_written_by_one_insert_returning_only_the_key(app_ctx, world, sent):
    claim_id = new_claim_id(app_ctx, world)

    event, written = _write(claim_id)

    [insert] = written
    assert insert.startswith("INSERT INTO claim_events")
    assert re.search(r"RETURNING (claim_events\.)?id$", insert.strip()), insert
    assert isinstance(event.id, int)
    state = sa.inspect(event)
    assert state.persistent
    assert event not in db.session.dirty
    assert not state.unloaded - {"claim"}  # every column is there: no lazy load
    assert statements_during(db.session.flush) == []


def test_the_object_holds_what_a_select_gives(app_ctx, world, sent):
    claim_id = new_claim_id(app_ctx, world)

    event, _ = _write(claim_id)
    db.session.commit()
    held = {c.key: getattr(event, c.key) for c in ClaimEvent.__table__.c}
    db.session.expire_all()
    read = db.session.get(ClaimEvent, event.id)

    def typed(values: dict) -> dict:
        return {key: (type(value), value) for key, value in values.items()}

    assert typed(held) == typed({c.key: getattr(read, c.key) for c in ClaimEvent.__table__.c})
    # A Paris time comes back in UTC, a string as its enum member, JSON as given.
    assert held["created_at"] == datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    assert held["created_at"].utcoffset() == timedelta(0)
    assert held["kind"] is EventKind.COMMENT
    assert held["changes"] == {"unit_id": [3, 7]}


def test_no_rows_write_nothing(app_ctx, world, sent):
    written = statements_during(lambda: insert_rows(db.session, ClaimEvent, [], {}))

    assert written == []
