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


def after_commit(session: Session, message_id: int, available_at: datetime) -> None:
    session.info.setdefault(_KEY, []).append((message_id, available_at))


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
        if not pending:
            return
        dispatcher = current_app.extensions.get("grc_outbox_dispatcher")
        if dispatcher is None:
            return
        try:
            dispatcher(pending)
        except Exception:  # the sweeper will hand them over; the commit stands
            log.exception("hand-over of %d message(s) failed; the sweeper will retry", len(pending))

    @sa.event.listens_for(db.session, "after_rollback")
    def _forget(session: Session) -> None:
        session.info.pop(_KEY, None)
