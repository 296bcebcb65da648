"""A poll launched on the small landlord at a given moment."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import sqlalchemy as sa

from grc.extensions import db
from grc.polls.models import Poll, PollAnswer, PollRecipient, Theme
from grc.polls.operations import NewPoll, NewQuestion, launch_poll

# Tuesday 10 March 2026, 10:00 in Paris.
TUESDAY = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def launched(
    sample: int = 8,
    themes: tuple[Theme, ...] = (Theme.CLEANLINESS, Theme.OVERALL),
    at: datetime = TUESDAY,
    seed: int = 1,
) -> Poll:
    poll = launch_poll(
        db.session,
        NewPoll("Enquête annuelle", [NewQuestion(theme) for theme in themes], sample),
        None,
        at,
        random.Random(seed),
    )
    db.session.commit()
    return poll


def recipients(poll: Poll | None = None) -> list[PollRecipient]:
    db.session.expire_all()
    stmt = sa.select(PollRecipient).order_by(PollRecipient.id)
    if poll is not None:
        stmt = stmt.where(PollRecipient.poll_id == poll.id)
    return list(db.session.execute(stmt).scalars())


def answers() -> list[PollAnswer]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(PollAnswer).order_by(PollAnswer.id)).scalars())
