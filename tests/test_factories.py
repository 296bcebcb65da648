"""The test world: after the first build in a process, it is written again from a copy of
that build's rows; the copy must leave the database and the World as a build does."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

import tests.factories as factories
from grc.auth import user_for_token
from grc.db import utcnow
from grc.extensions import db
from tests.conftest import _empty_all_tables

# Drawn at each build: the tokens' secrets (checked by using them).
RANDOM = {"api_tokens": ("token_hash", "prefix")}


def _state(world: factories.World) -> dict[str, Any]:
    """Every row (but the columns dated by default), the sequences, the World's ids."""
    tables = {}
    for table in db.metadata.sorted_tables:
        if table.name in factories._WRITTEN_BY_TRIGGERS:
            continue
        kept = [
            c
            for c in table.columns
            if not (c.default is not None and c.default.is_callable)
            and c.name not in RANDOM.get(table.name, ())
        ]
        rows = db.session.execute(sa.select(*kept).order_by(*table.primary_key)).all()
        tables[table.name] = [tuple(row) for row in rows]
    objects = {
        f.name: {key: sa.inspect(value).identity for key, value in getattr(world, f.name).items()}
        for f in fields(factories.World)
        if f.name not in ("session", "tokens")
    }
    return {
        "tables": tables,
        "sequences": factories._used_sequences(db.session),
        "objects": objects,
        "stamp": db.session.execute(sa.text("SELECT count(*) FROM catalogue_versions")).scalar(),
    }


def _start_again() -> None:
    db.session.remove()
    _empty_all_tables()


def test_a_world_written_again_is_the_world_a_build_gives(app_ctx, monkeypatch):
    factories.build_world(db.session)  # the process's first build, copied, if not done yet
    db.session.commit()
    _start_again()

    built = factories._build(db.session)
    db.session.commit()
    expected = _state(built)
    _start_again()

    def no_build(session):
        raise AssertionError("built again instead of written again")

    monkeypatch.setattr(factories, "_build", no_build)
    with freeze_time("2026-03-10 08:00:00"):
        copied = factories.build_world(db.session)
        db.session.commit()
    state = _state(copied)
    for table, rows in expected.pop("tables").items():
        assert state["tables"].pop(table) == rows, table
    assert state.pop("tables") == {}
    assert state == expected
    assert copied.tokens.keys() == built.tokens.keys()
    for key, secret in copied.tokens.items():
        assert user_for_token(secret, utcnow()) is copied.users[key]
    agent = copied.users["agent"]
    assert agent.created_at.isoformat() == "2026-03-10T08:00:00+00:00"  # dated anew
    assert agent.unit is None
    assert copied.users["metz_tech"].unit is copied.units["METZ-technique"]


@pytest.mark.parametrize("emptied", [False, True], ids=["a row", "an emptied table"])
def test_a_database_already_written_to_gets_a_real_build(app_ctx, backend, monkeypatch, emptied):
    factories.build_world(db.session)
    db.session.commit()
    _start_again()
    builds = []
    real = factories._build
    monkeypatch.setattr(factories, "_build", lambda session: builds.append(1) or real(session))

    db.session.execute(sa.text("INSERT INTO territories (code, name) VALUES ('X', 'X')"))
    if emptied:
        db.session.execute(sa.text("DELETE FROM territories"))  # empty, its first id used
    world = factories.build_world(db.session)
    db.session.commit()
    if emptied and backend == "sqlite":
        # SQLite gives the ids of an emptied table again: the copy is as good as a build.
        assert (builds, world.territories["MOS"].id) == ([], 1)
    else:
        assert (builds, world.territories["MOS"].id) == ([1], 2)
