"""Adding to a claim's timeline: one INSERT at once, never touching the claim's own row; the
event is visible at once on a loaded timeline, read from the database otherwise."""

from __future__ import annotations

import sqlalchemy as sa

from grc.claims import timeline
from grc.claims.models import Claim, EventKind, Visibility
from grc.db import utcnow
from grc.extensions import db
from tests.factories import claim_payload


def new_claim_id(app_ctx, world) -> int:
    response = app_ctx.test_client().post(
        "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
    )
    assert response.status_code == 201, response.json
    db.session.remove()
    return response.json["id"]


def statements_during(action) -> list[str]:
    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return seen


def test_an_event_joins_a_loaded_timeline_without_touching_the_claim_row(app_ctx, world, sent):
    claim = db.session.get(Claim, new_claim_id(app_ctx, world))
    before = [e.id for e in claim.events]
    agent = world.users["agent"]

    added: list = []
    written = statements_during(
        lambda: added.append(
            timeline.add_event(
                db.session,
                claim,
                EventKind.COMMENT,
                utcnow(),
                actor=agent,
                body="Rappelé le locataire.",
            )
        )
    )

    [event] = added
    [insert] = written
    assert insert.startswith("INSERT INTO claim_events")
    assert claim.events[-1] is event
    assert event.claim is claim
    assert event.actor is agent
    assert claim not in db.session.dirty
    assert not db.session.new
    assert statements_during(db.session.flush) == []
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Claim, claim.id).events
    assert [e.id for e in stored] == [*before, event.id]
    assert stored[-1].body == "Rappelé le locataire."
    assert stored[-1].actor_id == agent.id


def test_an_unloaded_timeline_stays_unloaded_and_reads_the_event_later(app_ctx, world, sent):
    claim = db.session.get(Claim, new_claim_id(app_ctx, world))
    assert "events" in sa.inspect(claim).unloaded

    loads = statements_during(
        lambda: timeline.add_event(
            db.session,
            claim,
            EventKind.MESSAGE,
            utcnow(),
            visibility=Visibility.TENANT,
            body="Réponse du locataire par SMS.",
        )
    )

    [insert] = loads
    assert insert.startswith("INSERT INTO claim_events")
    assert "events" in sa.inspect(claim).unloaded
    assert claim.events[-1].body == "Réponse du locataire par SMS."  # read from the database
    assert claim.events[-1].visibility == Visibility.TENANT


def test_several_events_take_one_insert_on_postgresql_and_keep_their_order(app_ctx, world, sent):
    claim = db.session.get(Claim, new_claim_id(app_ctx, world))
    before = [e.id for e in claim.events]
    news = [
        timeline.NewEvent(EventKind.COMMENT, body=f"Note {n}", visibility=Visibility.INTERNAL)
        for n in range(1, 6)
    ]

    added: list = []
    written = statements_during(
        lambda: added.extend(timeline.add_events(db.session, claim, utcnow(), news))
    )

    # SQLite does not promise RETURNING rows in VALUES order: SQLAlchemy then sends one
    # INSERT per row there, to keep each id with its event.
    assert len(written) == (1 if db.engine.dialect.name == "postgresql" else len(news))
    assert all(s.startswith("INSERT INTO claim_events") for s in written)
    assert [e.body for e in added] == [f"Note {n}" for n in range(1, 6)]
    assert [e.id for e in added] == sorted(e.id for e in added)
    assert claim.events[-5:] == added
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Claim, claim.id).events
    assert [(e.id, e.body) for e in stored[len(before) :]] == [(e.id, e.body) for e in added]
