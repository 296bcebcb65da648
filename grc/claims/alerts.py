"""The alerts the periodic watches have sent (SLA warnings and breaches, work-order reminders
and escalations): once per kind, subject and deadline, which the database enforces.

A watch selects only what has no alert yet for its current deadline (``not_alerted``),
records the alerts (``record_alerts``) and sends only those it recorded, in one transaction:
a minute with nothing new reads nothing more, a deadline that moves is alerted again, and two
runs at once never send the same alert twice (the primary key decides, not a read).
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
    session: Session, kind: str, due: Iterable[tuple[int, datetime]], now: datetime
) -> set[int]:
    """Record ``kind`` alerts for these (subject id, deadline) pairs, in one statement; the
    subject ids recorded by this call. A pair recorded already (by an earlier run, or by a
    run at the same moment, whose commit this one waits for) is left as it is and not
    returned: only the run that recorded an alert sends it."""
    rows = [
        {"kind": kind, "subject_id": subject_id, "deadline": deadline, "sent_at": now}
        for subject_id, deadline in due
    ]
    table = cast("sa.Table", WatchAlert.__table__)  # a mapped class's Table
    written = insert_many(
        session,
        table,
        rows,
        skip_conflicts_on=("kind", "subject_id", "deadline"),
        returning=("subject_id",),
    )
    return {subject_id for (subject_id,) in written}
