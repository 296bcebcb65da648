"""Work tables: rows that background jobs work off (outbox messages, received e-mail).

One mechanism for all of them:

- ``claim_batch`` takes up to ``limit`` due rows for one attempt each in one
  ``UPDATE … RETURNING`` (on PostgreSQL picked ``FOR UPDATE SKIP LOCKED``, so jobs running
  side by side take disjoint batches); the caller commits the claim before working on it;
- ``backoff`` is the wait before the next attempt after a failure;
- ``after_commit`` keeps what a transaction made due on its session and hands it, once the
  commit succeeded, to the application's ``Dispatchers`` (RQ, or in-process without Redis;
  registered by the ``workers`` package, which the core does not import). A rollback
  forgets it; a failed hand-over leaves the rows due, and the sweeper hands them over later.

Imports nothing of the domain packages: they import it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
