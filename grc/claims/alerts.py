"""The alerts the periodic watches have sent (SLA warnings and breaches, work-order reminders
and escalations): once per kind, subject and deadline, which the database enforces.

A watch selects only what has no alert yet for its current deadline (``not_alerted``), and
records what it has sent (``record_alerts``) in the same transaction as the messages, so a
minute with nothing new reads nothing more and a deadline that moves is alerted again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

from grc.claims.models import WatchAlert
from grc.db import insert_many


def not_alerted(
    kind: str,
    subject_id: sa.ColumnElement[int] | InstrumentedAttribute[int],
    deadline: sa.ColumnElement[datetime] | InstrumentedAttribute[datetime],
) -> sa.ColumnElement[bool]:
    """True for a row whose ``deadline`` has no ``kind`` alert yet (served by the primary key)."""
    return ~sa.exists().where(
        WatchAlert.kind == kind,
        WatchAlert.subject_id == subject_id,
        WatchAlert.deadline == deadline,
    )


def record_alerts(
    session: Session, kind: str, sent: Iterable[tuple[int, datetime]], now: datetime
) -> None:
    """Remember ``kind`` alerts as sent for these (subject id, deadline) pairs: one statement,
    and a pair recorded already (two watches at once) is left as it is."""
    rows = [
        {"kind": kind, "subject_id": subject_id, "deadline": deadline, "sent_at": now}
        for subject_id, deadline in sent
    ]
    table = cast("sa.Table", WatchAlert.__table__)  # a mapped class's Table
    insert_many(session, table, rows, skip_conflicts_on=("kind", "subject_id", "deadline"))
