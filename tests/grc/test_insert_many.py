"""insert_many and among_ids: a watch's batch written in one statement, whatever its size,
and read back by ids written into the statement."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from grc.claims.models import ClaimEvent, EventKind, Visibility
from grc.db import among_ids, insert_many
from grc.extensions import db
from tests.grc.claims.test_timeline import new_claim_id, statements_during

PARIS = ZoneInfo("Europe/Paris")
TABLE = ClaimEvent.__table__


def _event(claim_id: int, body: str) -> dict[str, object]:
    return {
        "claim_id": claim_id,
        "kind": EventKind.COMMENT,
        "visibility": Visibility.INTERNAL,
        "body": body,
        "changes": {"unit_id": [3, 7], "note": "l'unité « SAV »"},
        "created_at": datetime(2026, 11, 24, 9, 30, tzinfo=PARIS),
    }


def test_many_rows_are_one_statement_read_back_as_written(app_ctx, world, sent):
    claim_id = new_claim_id(app_ctx, world)
    rows = [_event(claim_id, f"Relance n° {n} <b>é</b>") for n in range(700)]

    returned: list[list[tuple]] = []
    written = statements_during(
        lambda: returned.append(insert_many(db.session, TABLE, rows, returning=("id", "body")))
    )

    assert len(written) == 1 or db.engine.dialect.name == "sqlite"
    assert [body for _, body in returned[0]] == [row["body"] for row in rows]
    db.session.commit()
    stored = db.session.execute(
        sa.select(ClaimEvent).where(
            ClaimEvent.claim_id == claim_id, ClaimEvent.body.like("Relance%")
        )
    ).scalars()
    events = sorted(stored, key=lambda event: event.id)
    assert len(events) == 700
    assert events[0].kind == EventKind.COMMENT
    assert events[0].changes == {"unit_id": [3, 7], "note": "l'unité « SAV »"}
    assert events[0].created_at == datetime(2026, 11, 24, 8, 30, tzinfo=UTC)


def test_rows_already_there_are_skipped_and_not_returned(app_ctx, world, sent):
    from grc.claims.models import WatchAlert

    alerts = WatchAlert.__table__
    deadline = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)
    first = [
        {"kind": "test", "subject_id": n, "deadline": deadline, "sent_at": deadline} for n in (1, 2)
    ]
    insert_many(db.session, alerts, first, skip_conflicts_on=("kind", "subject_id", "deadline"))

    again = [
        {"kind": "test", "subject_id": n, "deadline": deadline, "sent_at": deadline} for n in (2, 3)
    ]
    returned = insert_many(
        db.session,
        alerts,
        again,
        skip_conflicts_on=("kind", "subject_id", "deadline"),
        returning=("subject_id",),
    )

    assert returned == [(3,)]
    count = db.session.execute(
        sa.select(sa.func.count()).select_from(alerts).where(alerts.c.kind == "test")
    ).scalar_one()
    assert count == 3


def test_a_naive_datetime_is_refused(app_ctx, world, sent):
    claim_id = new_claim_id(app_ctx, world)
    row = _event(claim_id, "x") | {"created_at": datetime(2026, 11, 24, 9, 30)}  # noqa: DTZ001

    with pytest.raises((ValueError, sa.exc.StatementError)):
        insert_many(db.session, TABLE, [row])


def test_among_ids_finds_the_rows_in_one_statement(app_ctx, world, sent):
    claim_id = new_claim_id(app_ctx, world)
    query = sa.select(ClaimEvent.claim_id).where(
        among_ids(db.session, ClaimEvent.claim_id, [claim_id, 0])
    )

    found: list[set[int]] = []
    [statement] = statements_during(lambda: found.append(set(db.session.scalars(query))))

    assert found == [{claim_id}]
    # The ids do not change the statement's text on PostgreSQL (prepared once for all
    # batches); SQLite gets them written in.
    if db.engine.dialect.name == "postgresql":
        assert str(claim_id) not in statement
    else:
        assert str(claim_id) in statement


def test_among_ids_takes_integers_only(app_ctx):
    with pytest.raises(TypeError):
        among_ids(db.session, ClaimEvent.id, [1, "2 OR 1=1"])  # type: ignore[list-item]  # the refused call
