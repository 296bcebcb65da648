"""The one mechanism of the work tables: backoff and the hand-over after commit."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from grc import worktable
from grc.extensions import db
from tests.dispatchers import Calling, replaced_dispatchers


def test_the_last_delay_repeats() -> None:
    delays = (timedelta(seconds=10), timedelta(minutes=1))
    waits = [worktable.backoff(delays, attempts) for attempts in (1, 2, 3, 9)]
    assert waits == [delays[0], delays[1], delays[1], delays[1]]


def test_what_a_commit_made_due_goes_to_its_own_dispatcher(app_ctx) -> None:
    messages: list[object] = []
    emails: list[object] = []
    with replaced_dispatchers(
        app_ctx, delivery=Calling(messages.extend), inbound=Calling(emails.extend)
    ):
        worktable.after_commit(db.session, worktable.Work.INBOUND, 7)
        worktable.after_commit(db.session, worktable.Work.DELIVERY, (1, "now"))
        worktable.after_commit(db.session, worktable.Work.INBOUND, 8)
        assert (messages, emails) == ([], [])  # nothing before the commit
        db.session.commit()
    assert (messages, emails) == ([(1, "now")], [7, 8])


def test_a_rollback_forgets_and_a_failed_hand_over_keeps_the_commit(app_ctx) -> None:
    emails: list[object] = []

    def redis_down(_items: list[object]) -> None:
        raise ConnectionError("redis is down")

    with replaced_dispatchers(
        app_ctx, delivery=Calling(redis_down), inbound=Calling(emails.extend)
    ):
        db.session.execute(sa.text("SELECT 1"))  # a transaction, as an operation's flush opens
        worktable.after_commit(db.session, worktable.Work.INBOUND, 1)
        db.session.rollback()
        worktable.after_commit(db.session, worktable.Work.DELIVERY, (2, "now"))
        worktable.after_commit(db.session, worktable.Work.INBOUND, 3)
        db.session.commit()  # the delivery hand-over fails: logged, the sweeper covers it
    assert emails == [3]
