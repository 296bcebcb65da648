"""Pooled connections: one idle for a while is pinged before use and replaced if dead; one
used moments ago is not pinged (a round trip per request saved)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import grc.db
from grc.extensions import db


@pytest.fixture
def pings(app_ctx, monkeypatch) -> list[object]:
    seen: list[object] = []
    real = db.engine.dialect.do_ping

    def counting_ping(dbapi_connection: object) -> bool:
        seen.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(db.engine.dialect, "do_ping", counting_ping)
    return seen


def use_connection() -> None:
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1


def test_a_connection_used_moments_ago_is_not_pinged(pings):
    use_connection()  # the pool's connection may have idled since an earlier test: pinged
    pings.clear()
    use_connection()
    use_connection()
    assert pings == []


def test_a_connection_idle_for_a_while_is_pinged(pings, monkeypatch):
    use_connection()
    pings.clear()
    monkeypatch.setattr(grc.db, "PING_AFTER_IDLE_S", 0.0)
    use_connection()
    assert len(pings) == 1


def test_a_connection_cut_while_idle_is_replaced_unnoticed(app_ctx, backend, monkeypatch):
    if backend != "postgresql":
        pytest.skip("a server-side disconnection is a PostgreSQL matter")
    with db.engine.connect() as conn:
        first_pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    # Another session kills the pooled connection's server process, as a restart would.
    killer = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    with killer.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid})
    killer.dispose()
    monkeypatch.setattr(grc.db, "PING_AFTER_IDLE_S", 0.0)
    with db.engine.connect() as conn:
        second_pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    assert second_pid != first_pid
