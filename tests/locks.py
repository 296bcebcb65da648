"""Waiting, in a test, until another session waits on a lock (PostgreSQL)."""

from __future__ import annotations

import threading

import sqlalchemy as sa

_WAITING = sa.text(
    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    " AND datname = current_database()"
)


def someone_waits_on_a_lock(engine: sa.Engine, within_seconds: float = 30.0) -> bool:
    """Whether a session of this database comes to wait on a lock within the delay. Each
    look is a transaction of its own: PostgreSQL shows a transaction the same snapshot of
    pg_stat_activity until it ends, so a wait that starts after the first look would never
    be seen."""
    stop = threading.Event()
    for _ in range(int(within_seconds * 100)):
        with engine.connect() as watcher:
            if watcher.execute(_WAITING).scalar_one():
                return True
        stop.wait(0.01)
    return False
