"""The one mechanism of the work tables: backoff, the hand-over after commit, and the
sweeper, the same for the outbox and received e-mail."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from grc import worktable
from grc.extensions import db
from grc.inbound import operations as inbound
from grc.inbound.models import InboundEmail, InboundStatus
from grc.messaging import operations as outbox
from grc.messaging.models import DeliveryStatus, MessageChannel, OutboxMessage, Purpose
from tests.dispatchers import Calling, Ignoring, replaced_dispatchers


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


# --- the sweeper, on both tables ------------------------------------------------------------

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
AFTER = timedelta(seconds=30)
LEASE = timedelta(minutes=2)
TABLES = (outbox.work_table(6), inbound.WORK_TABLE)


class Waking(Ignoring):
    """Counts the sweeper's wakes; commits hand nothing over."""

    def __init__(self, wakes: Counter[str], work: str) -> None:
        self.wakes, self.work = wakes, work

    def wake(self) -> None:
        self.wakes[self.work] += 1


@pytest.fixture
def wakes(app_ctx: Flask) -> Iterator[Counter[str]]:
    counted: Counter[str] = Counter()
    with replaced_dispatchers(
        app_ctx, delivery=Waking(counted, "delivery"), inbound=Waking(counted, "inbound")
    ):
        yield counted


def _message(key: str, at: datetime = NOW) -> int:
    message = outbox.queue_message(
        db.session,
        outbox.NewMessage(
            idempotency_key=key,
            channel=MessageChannel.EMAIL,
            purpose=Purpose.ACKNOWLEDGEMENT,
            recipient="locataire@example.org",
            subject="Demande",
            body_text="Bonjour",
        ),
        at,
    )
    assert message is not None
    db.session.commit()
    return message.id


def _email(at: datetime = NOW) -> int:
    email_id = inbound.store_inbound(db.session, "text/plain", b"x", at)
    db.session.commit()
    return email_id


def _claim_both(at: datetime) -> tuple[list[int], list[int]]:
    messages = outbox.claim_due_messages(db.session, at, 10, 6, lease=LEASE)
    emails = inbound.claim_received_emails(db.session, at, 10)
    db.session.commit()
    return [m.id for m in messages], emails


def _sweep(at: datetime, session: Any = None) -> dict[worktable.Work, worktable.Swept]:
    swept = worktable.sweep(session or db.session, TABLES, at, AFTER)
    (session or db.session).commit()
    return swept


def test_a_live_lease_is_left_alone_and_an_expired_one_is_handed_over_again(wakes) -> None:
    message_id, email_id = _message("m1"), _email()
    assert _claim_both(NOW) == ([message_id], [email_id])

    # Both workers are within their leases: nothing is theirs to take back or hand over.
    swept = _sweep(NOW + timedelta(minutes=1))
    assert swept == {
        worktable.Work.DELIVERY: worktable.Swept(),
        worktable.Work.INBOUND: worktable.Swept(),
    }
    worktable.wake_swept(worktable.dispatchers(), swept)
    assert wakes == Counter()
    assert _claim_both(NOW + timedelta(minutes=1)) == ([], [])  # still theirs

    # Both went silent: past the lease each row is released, due again, and its job woken.
    later = NOW + inbound.PROCESSING_LEASE
    swept = _sweep(later)
    assert swept[worktable.Work.DELIVERY].expired == [message_id]
    assert swept[worktable.Work.INBOUND].expired == [email_id]
    # The e-mail is in no queue (its job died with it): handed over at once.
    assert swept[worktable.Work.INBOUND].handed == [email_id]
    assert {work: found.rows for work, found in swept.items()} == {
        worktable.Work.DELIVERY: 1,
        worktable.Work.INBOUND: 1,
    }
    worktable.wake_swept(worktable.dispatchers(), swept)
    assert wakes == Counter(delivery=1, inbound=1)
    db.session.expire_all()
    message = db.session.get_one(OutboxMessage, message_id)
    email = db.session.get_one(InboundEmail, email_id)
    assert (message.status, message.lease_expires_at, message.locked_at) == (
        DeliveryStatus.PENDING,
        None,
        None,
    )
    assert (email.status, email.lease_expires_at) == (InboundStatus.RECEIVED, None)
    # The woken jobs take them again, for a second attempt each.
    assert _claim_both(later) == ([message_id], [email_id])
    db.session.expire_all()
    assert db.session.get_one(OutboxMessage, message_id).attempts == 2
    assert db.session.get_one(InboundEmail, email_id).attempts == 2


def test_an_outcome_ends_the_lease(app_ctx, wakes) -> None:
    message_id, email_id = _message("m1"), _email()
    _claim_both(NOW)
    message = db.session.get_one(OutboxMessage, message_id)
    outbox.record_sent(db.session, message, "sendgrid", "abc", NOW)
    inbound.record_failure(db.session, email_id, "RuntimeError: reader crashed", NOW)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get_one(OutboxMessage, message_id).lease_expires_at is None
    assert db.session.get_one(InboundEmail, email_id).lease_expires_at is None
    # The sent message is never the sweeper's; the e-mail is, once its retry is due.
    swept = _sweep(NOW + timedelta(hours=1))
    assert swept[worktable.Work.DELIVERY] == worktable.Swept()
    assert swept[worktable.Work.INBOUND] == worktable.Swept(handed=[email_id])


def test_nothing_is_handed_over_twice(app_ctx, wakes) -> None:
    message_ids = [_message(f"m{n}") for n in range(3)]
    email_ids = [_email() for _ in range(3)]
    late = NOW + timedelta(minutes=10)  # past the sweep delay and the e-mails' grace
    first = _sweep(late)
    assert first[worktable.Work.DELIVERY].handed == message_ids
    assert first[worktable.Work.INBOUND].handed == email_ids
    # The next sweep, within the sweep delay, leaves them to the jobs just woken.
    again = _sweep(late + AFTER / 2)
    assert again == {
        worktable.Work.DELIVERY: worktable.Swept(),
        worktable.Work.INBOUND: worktable.Swept(),
    }
    # Still due once that hand-over is old news: handed over again, once.
    assert _sweep(late + AFTER)[worktable.Work.DELIVERY].handed == message_ids


def test_two_sweeps_at_once_hand_over_disjoint_rows(app_ctx, wakes, backend) -> None:
    """A second sweep made while the first one's transaction still holds its rows finds
    none of them (PostgreSQL's SKIP LOCKED; SQLite has one writer at a time)."""
    if backend != "postgresql":
        pytest.skip("row locks: PostgreSQL only")
    from sqlalchemy.orm import Session

    message_ids = [_message(f"m{n}") for n in range(3)]
    email_ids = [_email() for _ in range(3)]
    late = NOW + timedelta(minutes=10)
    with Session(db.engine) as first, Session(db.engine) as second:
        found_first = worktable.sweep(first, TABLES, late, AFTER)  # not committed yet
        found_second = worktable.sweep(second, TABLES, late, AFTER)
        first.commit()
        second.commit()
    for work, ids in ((worktable.Work.DELIVERY, message_ids), (worktable.Work.INBOUND, email_ids)):
        assert found_first[work].handed == ids
        assert found_second[work].handed == []


def test_the_sweep_job_covers_both_tables_and_the_old_name_still_runs_it(app_ctx, wakes) -> None:
    from workers import jobs

    assert jobs.sweep_outbox is jobs.sweep_work_tables
    message_id, email_id = (
        _message("m1", NOW - timedelta(hours=1)),
        _email(NOW - timedelta(hours=1)),
    )
    db.session.execute(
        sa.update(OutboxMessage).values(available_at=datetime.now(UTC) - timedelta(hours=1))
    )
    db.session.execute(
        sa.update(InboundEmail).values(received_at=datetime.now(UTC) - timedelta(hours=1))
    )
    db.session.commit()
    assert jobs.sweep_work_tables() == 2
    assert wakes == Counter(delivery=1, inbound=1)
    assert jobs.sweep_work_tables() == 0  # just handed over: the jobs have them
    db.session.expire_all()
    assert db.session.get_one(OutboxMessage, message_id).handed_at is not None
    assert db.session.get_one(InboundEmail, email_id).handed_at is not None
