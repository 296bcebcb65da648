"""Work tables: rows that background jobs work off (outbox messages, received e-mail).

One mechanism for all of them:

- ``claim_batch`` takes up to ``limit`` due rows for one attempt each in one
  ``UPDATE … RETURNING`` (on PostgreSQL picked ``FOR UPDATE SKIP LOCKED``, so jobs running
  side by side take disjoint batches); the caller commits the claim before working on it;
- ``backoff`` is the wait before the next attempt after a failure;
- ``after_commit`` keeps what a transaction made due on its session and hands it, once the
  commit succeeded, to the application's ``Dispatchers`` (RQ, or in-process without Redis;
  registered by the ``workers`` package, which the core does not import). A rollback
  forgets it; a failed hand-over leaves the rows due, and the sweeper hands them over later;
- ``sweep`` recovers what a queue or a worker lost, the same way for every table (each
  described by a ``WorkTable``): rows whose lease ran out (their worker went silent) go
  where their table says, and due rows that no queue may hold any more are marked
  ``handed_at`` and their table's dispatcher is woken.

One lease representation: a worker holds a row it claimed until the row's
``lease_expires_at``, which the claim sets and every recorded outcome clears.

Imports nothing of the domain packages: they import it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

Item = TypeVar("Item")


class Dispatcher(Protocol[Item]):
    """Wakes the job that works off one table."""

    # Positional: each dispatcher names the items as what they are (messages, e-mail ids).
    def __call__(self, items: list[Item], /) -> None:
        """``items`` were committed: make sure a job will take them."""

    def wake(self) -> None:
        """Make sure a job will look for due rows (a job handing over to a fresh one, the
        sweeper)."""


class Work(StrEnum):
    """The work tables, each named as its dispatcher in ``Dispatchers``."""

    DELIVERY = "delivery"  # outbox messages: (id, available_at)
    INBOUND = "inbound"  # received e-mail: ids


@dataclass(frozen=True)
class Dispatchers:
    delivery: Dispatcher[tuple[int, datetime]]
    inbound: Dispatcher[int]


_EXTENSION = "grc_dispatchers"


def set_dispatchers(app: Flask, dispatchers: Dispatchers) -> None:
    app.extensions[_EXTENSION] = dispatchers


def dispatchers(app: Flask | None = None) -> Dispatchers | None:
    """The application's dispatchers (None before the ``workers`` package registered any)."""
    found = (app or current_app).extensions.get(_EXTENSION)
    return found if isinstance(found, Dispatchers) else None


# --- claiming a batch -----------------------------------------------------------------------


def claim_batch(
    session: Session,
    model: Any,
    due: sa.ColumnElement[bool],
    limit: int,
    values: Mapping[str, Any],
    returning: Any,
) -> Sequence[Any]:
    """Mark up to ``limit`` rows of ``model`` matching ``due``, oldest first, with ``values``
    (the attempt counted, the lease taken) and return ``returning`` of each, by id."""
    pick = sa.select(model.id).where(due).order_by(model.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    return session.scalars(
        sa.update(model)
        .where(model.id.in_(pick.scalar_subquery()))
        .values(dict(values))
        .returning(returning)
        .execution_options(populate_existing=True)
    ).all()


def backoff(delays: Sequence[timedelta], attempts: int) -> timedelta:
    """The wait after the failure of attempt number ``attempts`` (1 for the first); the last
    delay repeats."""
    return delays[min(attempts, len(delays)) - 1]


# --- hand-over after commit -----------------------------------------------------------------

_PENDING = "grc_work_after_commit"


def after_commit(session: Session, work: Work, item: object) -> None:
    session.info.setdefault(_PENDING, {}).setdefault(work, []).append(item)


_listening = False


def init_app(app: Flask) -> None:
    """Listen to commits of the shared scoped session (once per process, whatever the apps)."""
    global _listening
    if _listening:
        return
    _listening = True
    from grc.extensions import db

    @sa.event.listens_for(db.session, "after_commit")
    def _hand_over(session: Session) -> None:
        pending: dict[Work, list[Any]] = session.info.pop(_PENDING, None) or {}
        registered = dispatchers() if pending else None
        if registered is None:
            return
        for work in Work:  # messages first, as they always were
            if pending.get(work):
                _dispatch(getattr(registered, work.value), work, pending[work])

    @sa.event.listens_for(db.session, "after_rollback")
    def _forget(session: Session) -> None:
        session.info.pop(_PENDING, None)


def _dispatch(dispatcher: Dispatcher[Any], work: Work, items: list[Any]) -> None:
    try:
        dispatcher(items)
    except Exception:  # the sweeper will hand them over; the commit stands
        log.exception(
            "hand-over of %d item(s) to %s failed; the sweeper will retry", len(items), work
        )


# --- the sweeper ----------------------------------------------------------------------------

# Rows handed over per table and sweep: a backlog is worked off by the jobs the sweeper
# wakes, which take everything due, not by the sweeper.
SWEEP_LIMIT = 1000


@dataclass(frozen=True)
class WorkTable:
    """What the sweeper needs to know of one work table. ``model`` has ``id``,
    ``lease_expires_at`` and ``handed_at``."""

    work: Work
    model: Any
    # The rows a worker holds while its lease lasts (outbox: sending; e-mail: received).
    held: sa.ColumnElement[bool]
    # Due rows that no queue may hold any more at ``now``, the sweep delay being ``after``.
    forgotten: Callable[[datetime, timedelta], sa.ColumnElement[bool]]
    # What becomes of the rows ``expired`` selects (their worker went silent): back to the
    # queue, or set aside for a person. Returns their ids.
    release: Callable[[Session, sa.ColumnElement[bool], datetime], Sequence[int]]


@dataclass(frozen=True)
class Swept:
    """What one sweep found in one table (ids)."""

    expired: list[int] = field(default_factory=list)
    handed: list[int] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """Rows found, each counted once (an expired lease may be handed over at once)."""
        return len(set(self.expired) | set(self.handed))


def lease_expired(table: WorkTable, now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(table.held, table.model.lease_expires_at <= now)


def release_expired(session: Session, table: WorkTable, now: datetime) -> list[int]:
    """Rows of ``table`` whose worker's lease ran out before it recorded an outcome."""
    return sorted(table.release(session, lease_expired(table, now), now))


def hand_over_forgotten(
    session: Session, table: WorkTable, now: datetime, after: timedelta, limit: int = SWEEP_LIMIT
) -> list[int]:
    """Due rows no queue may hold any more and not handed over for ``after``: marked
    ``handed_at`` now, in one ``UPDATE`` (on PostgreSQL ``SKIP LOCKED``), so that two sweeps
    never hand the same row over, nor one sweep a row again before ``after``."""
    model = table.model
    not_lately = sa.or_(model.handed_at.is_(None), model.handed_at <= now - after)
    handed = claim_batch(
        session,
        model,
        sa.and_(table.forgotten(now, after), not_lately),
        limit,
        {"handed_at": now},
        model.id,
    )
    return sorted(handed)


def sweep(
    session: Session, tables: Sequence[WorkTable], now: datetime, after: timedelta
) -> dict[Work, Swept]:
    """Release the expired leases of each table, then mark what must be handed over. The
    caller commits, then wakes the dispatcher of each table that has rows to hand over
    (``wake_swept``)."""
    return {
        table.work: Swept(
            expired=release_expired(session, table, now),
            handed=hand_over_forgotten(session, table, now, after),
        )
        for table in tables
    }


def wake_swept(registered: Dispatchers, swept: Mapping[Work, Swept]) -> None:
    """After the sweep's commit: a job for every table where rows are due again. The jobs
    claim every due row themselves, so a wake is all a dispatcher needs."""
    for work, found in swept.items():
        if found.handed or found.expired:
            getattr(registered, work.value).wake()
