"""Hands outbox messages to the background workers once their transaction has committed.

Operations call ``after_commit(session, message_id, available_at)``; the ids are kept on the
session and given, after a successful commit, to the dispatcher registered by the
``workers`` package (RQ, or in-process without Redis). A rollback forgets them. When no
dispatcher is registered, or the hand-over fails (Redis down), the rows simply stay pending
and the periodic sweeper hands them over later: nothing is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

Dispatcher = Callable[[list[tuple[int, datetime]]], None]
_KEY = "grc_outbox_handover"
_JOBS_KEY = "grc_after_commit_jobs"


def after_commit(session: Session, message_id: int, available_at: datetime) -> None:
    session.info.setdefault(_KEY, []).append((message_id, available_at))


def job_after_commit(session: Session, dispatcher_name: str, item_id: int) -> None:
    """Another kind of work to hand over after the commit (inbound e-mail to process): given,
    as a list of ids, to ``app.extensions[dispatcher_name]``."""
    session.info.setdefault(_JOBS_KEY, []).append((dispatcher_name, item_id))


def set_dispatcher(app: Flask, dispatcher: Dispatcher) -> None:
    app.extensions["grc_outbox_dispatcher"] = dispatcher


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
        pending = session.info.pop(_KEY, None)
        jobs = session.info.pop(_JOBS_KEY, None)
        if pending:
            _dispatch("grc_outbox_dispatcher", pending)
        for name in sorted({name for name, _ in jobs or ()}):
            _dispatch(name, [item for job, item in jobs if job == name])

    @sa.event.listens_for(db.session, "after_rollback")
    def _forget(session: Session) -> None:
        session.info.pop(_KEY, None)
        session.info.pop(_JOBS_KEY, None)


def _dispatch(name: str, items: list) -> None:
    dispatcher = current_app.extensions.get(name)
    if dispatcher is None:
        return
    try:
        dispatcher(items)
    except Exception:  # the sweeper will hand them over; the commit stands
        log.exception(
            "hand-over of %d item(s) to %s failed; the sweeper will retry", len(items), name
        )
