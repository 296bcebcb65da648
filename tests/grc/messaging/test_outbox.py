"""Outbox operations without Redis: claiming, recording, callbacks, the sweeper's choice."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from grc.extensions import db
from grc.messaging import operations as outbox
from grc.messaging.models import DeliveryStatus, MessageChannel, OutboxMessage, Purpose

PARIS = ZoneInfo("Europe/Paris")
QUIET = (time(20, 0), time(8, 0))
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


@pytest.fixture
def handed(app_ctx):
    """Collects what would be handed to the queue instead of delivering it."""
    from tests.dispatchers import Calling, replaced_dispatchers

    collected: list[tuple[int, datetime]] = []
    with replaced_dispatchers(app_ctx, delivery=Calling(collected.extend)):
        yield collected


@pytest.mark.parametrize(
    ("local", "expected_local"),
    [
        (
            datetime(2026, 3, 10, 12, 0, tzinfo=PARIS),
            datetime(2026, 3, 10, 12, 0, tzinfo=PARIS),
        ),  # daytime: now
        (datetime(2026, 3, 10, 19, 59, tzinfo=PARIS), datetime(2026, 3, 10, 19, 59, tzinfo=PARIS)),
        (
            datetime(2026, 3, 10, 20, 0, tzinfo=PARIS),
            datetime(2026, 3, 11, 8, 0, tzinfo=PARIS),
        ),  # evening: next morning
        (datetime(2026, 3, 10, 23, 30, tzinfo=PARIS), datetime(2026, 3, 11, 8, 0, tzinfo=PARIS)),
        (
            datetime(2026, 3, 11, 3, 0, tzinfo=PARIS),
            datetime(2026, 3, 11, 8, 0, tzinfo=PARIS),
        ),  # night: this morning
        (datetime(2026, 3, 11, 8, 0, tzinfo=PARIS), datetime(2026, 3, 11, 8, 0, tzinfo=PARIS)),
        (
            datetime(2026, 3, 28, 22, 0, tzinfo=PARIS),
            datetime(2026, 3, 29, 8, 0, tzinfo=PARIS),
        ),  # across the DST night
    ],
)
def test_quiet_hours(local, expected_local):
    now = local.astimezone(UTC)
    expected = expected_local.astimezone(UTC)
    assert outbox.after_quiet_hours(now, QUIET, PARIS) == expected


def test_quiet_hours_within_one_day():
    quiet = (time(12, 0), time(14, 0))
    noon = datetime(2026, 3, 10, 12, 30, tzinfo=PARIS).astimezone(UTC)
    assert outbox.after_quiet_hours(noon, quiet, PARIS) == datetime(
        2026, 3, 10, 14, 0, tzinfo=PARIS
    ).astimezone(UTC)


def _queue(channel=MessageChannel.SMS, key="k1", **extra) -> OutboxMessage:
    message = outbox.queue_message(
        db.session,
        outbox.NewMessage(
            idempotency_key=key,
            channel=channel,
            purpose=Purpose.ACKNOWLEDGEMENT,
            recipient="+33612345678",
            body_text="Bonjour",
            **extra,
        ),
        NOW,
    )
    db.session.commit()
    return message


def test_same_key_is_queued_once(app_ctx, handed):
    first = _queue()
    assert first is not None
    assert handed == [(first.id, NOW)]  # handed over after the commit
    assert (
        outbox.queue_message(
            db.session,
            outbox.NewMessage(
                idempotency_key="k1",
                channel=MessageChannel.SMS,
                purpose=Purpose.ACKNOWLEDGEMENT,
                recipient="+33612345678",
                body_text="Bonjour",
            ),
            NOW,
        )
        is None
    )
    db.session.rollback()
    assert db.session.query(OutboxMessage).count() == 1
    assert handed == [(first.id, NOW)]  # a rollback hands nothing over


def _claim(at: datetime, limit: int = 100, max_attempts: int = 6) -> list[OutboxMessage]:
    claimed = outbox.claim_due_messages(db.session, at, limit, max_attempts, lease=LEASE)
    db.session.commit()
    return claimed


def test_claim_send_and_record(app_ctx, handed):
    message = _queue()
    [claimed] = _claim(NOW)
    assert claimed.id == message.id
    assert claimed.status == DeliveryStatus.SENDING
    assert (claimed.attempts, claimed.locked_at) == (1, NOW)
    # A second worker (or a duplicate job) finds nothing left to take.
    assert _claim(NOW + timedelta(seconds=5)) == []
    outbox.record_sent(db.session, claimed, "twilio", "SM123", NOW)
    db.session.commit()
    assert _claim(NOW + timedelta(hours=1)) == []
    assert (claimed.status, claimed.provider_id, claimed.sent_at) == (
        DeliveryStatus.SENT,
        "SM123",
        NOW,
    )


def test_batches_are_taken_in_order_and_never_twice(app_ctx, handed):
    queued = [_queue(key=f"k{n}") for n in range(5)]
    first = _claim(NOW, limit=2)
    second = _claim(NOW, limit=2)
    third = _claim(NOW, limit=2)
    assert [m.id for m in first + second + third] == [m.id for m in queued]
    assert [len(first), len(second), len(third)] == [2, 2, 1]
    assert _claim(NOW, limit=2) == []


def test_concurrent_claims_skip_each_others_rows(app_ctx, handed):
    """A second worker's claim, made while the first one's transaction still holds its rows,
    takes the next rows instead of waiting or taking the same ones."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time; row locks are a PostgreSQL matter")
    queued = [_queue(key=f"k{n}") for n in range(4)]
    first = outbox.claim_due_messages(db.session, NOW, 2, 6)  # not committed yet
    other = db.session.session_factory()
    try:
        second = outbox.claim_due_messages(other, NOW, 10, 6)
        other.commit()
    finally:
        other.close()
    db.session.commit()
    assert [m.id for m in first] == [queued[0].id, queued[1].id]
    assert [m.id for m in second] == [queued[2].id, queued[3].id]


def test_interrupted_sms_is_set_aside_for_a_person(app_ctx, handed):
    message = _queue()
    claimed = _claim(NOW)
    outbox.mark_calls_started(db.session, claimed, NOW)
    db.session.commit()
    # Still within the worker's lease: left alone.
    assert outbox.recover_interrupted(db.session, NOW + timedelta(seconds=30)) == 0
    later = NOW + LEASE + timedelta(seconds=1)
    assert outbox.recover_interrupted(db.session, later) == 1
    db.session.commit()
    db.session.refresh(message)
    assert message.status == DeliveryStatus.NEEDS_CHECK
    assert "check with the provider" in message.last_error
    assert _claim(later) == []  # never sent again by itself


def test_interrupted_sms_never_handed_to_the_provider_is_sent_again(app_ctx, handed):
    """A worker killed mid-batch: the SMS whose call had started may be at the provider and
    go to a person; those of the batch it never called are simply sent again."""
    called, never_called = _queue(key="k1"), _queue(key="k2")
    batch = _claim(NOW)
    outbox.mark_calls_started(db.session, batch[:1], NOW)
    db.session.commit()
    later = NOW + LEASE + timedelta(seconds=1)
    assert outbox.recover_interrupted(db.session, later) == 2
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(OutboxMessage, called.id).status == DeliveryStatus.NEEDS_CHECK
    back = db.session.get(OutboxMessage, never_called.id)
    assert (back.status, back.available_at, back.locked_at) == (DeliveryStatus.PENDING, later, None)
    [again] = _claim(later)
    assert again.id == never_called.id
    assert again.call_started_at is None  # a new attempt: its call has not started yet


def test_interrupted_email_is_sent_again_with_the_same_key(app_ctx, handed):
    message = _queue(channel=MessageChannel.EMAIL, subject="Demande")
    _claim(NOW)
    assert outbox.recover_interrupted(db.session, NOW + LEASE * 2) == 1
    db.session.commit()
    [again] = _claim(NOW + LEASE * 2)
    assert again.id == message.id
    assert again.attempts == 2
    assert again.message_key == f"grc-outbox-{message.id}"


def test_not_before_its_time(app_ctx, handed):
    message = _queue(available_at=NOW + timedelta(hours=3))
    assert _claim(NOW) == []
    assert [m.id for m in _claim(NOW + timedelta(hours=3))] == [message.id]


def test_retries_wait_longer_each_time_then_fail(app_ctx, handed):
    message = _queue()
    at = NOW
    waits = []
    for attempt in range(1, 4):
        [claimed] = _claim(at, max_attempts=3)
        will_retry = outbox.record_retry(db.session, claimed, "503 from provider", at, 3)
        db.session.commit()
        assert will_retry is (attempt < 3)
        if will_retry:
            assert _claim(at, max_attempts=3) == []  # not before its wait is over
            waits.append(claimed.available_at - at)
            at = claimed.available_at
    assert waits == [timedelta(seconds=10), timedelta(seconds=30)]
    db.session.refresh(message)
    assert message.status == DeliveryStatus.FAILED
    assert message.failed_at == at
    assert message.last_error == "503 from provider"


def test_callbacks_apply_once_and_only_forward(app_ctx, handed):
    _queue()
    [message] = _claim(NOW)
    outbox.record_sent(db.session, message, "twilio", "SMabc", NOW)
    db.session.commit()
    delivered = outbox.ProviderUpdate(provider="twilio", provider_id="SMabc", status="delivered")
    assert outbox.apply_provider_update(db.session, delivered, NOW) is True
    assert outbox.apply_provider_update(db.session, delivered, NOW) is False
    late_sent = outbox.ProviderUpdate(provider="twilio", provider_id="SMabc", status="sent")
    assert outbox.apply_provider_update(db.session, late_sent, NOW) is False
    assert message.status == DeliveryStatus.DELIVERED
    unknown = outbox.ProviderUpdate(provider="twilio", provider_id="SMzzz", status="delivered")
    assert outbox.apply_provider_update(db.session, unknown, NOW) is False


def test_a_callback_repeated_while_the_first_is_uncommitted_changes_nothing(app_ctx, handed):
    """The second copy of a callback arrives while the first copy's transaction is still
    open: it waits for it, then finds the record already changed (PostgreSQL and SQLite)."""
    _queue()
    [message] = _claim(NOW)
    outbox.record_sent(db.session, message, "twilio", "SMabc", NOW)
    db.session.commit()
    delivered = outbox.ProviderUpdate(provider="twilio", provider_id="SMabc", status="delivered")
    first = db.session.session_factory()
    second_changed: list[bool] = []

    def second_copy() -> None:
        with app_ctx.app_context():
            other = db.session.session_factory()
            try:
                second_changed.append(outbox.apply_provider_update(other, delivered, NOW))
                other.commit()
            finally:
                other.close()

    try:
        assert outbox.apply_provider_update(first, delivered, NOW) is True  # not committed
        thread = threading.Thread(target=second_copy)
        thread.start()
        thread.join(timeout=0.5)  # it waits on the first one's write
        first.commit()
    finally:
        first.close()
    thread.join(timeout=30)
    assert second_changed == [False]
    db.session.refresh(message)
    assert (message.status, message.provider_status) == (DeliveryStatus.DELIVERED, "delivered")


def test_callback_found_by_message_key(app_ctx, handed):
    _queue(channel=MessageChannel.EMAIL, subject="x")
    [message] = _claim(NOW)
    outbox.record_sent(db.session, message, "sendgrid", "abc", NOW)
    bounce = outbox.ProviderUpdate(
        provider="sendgrid",
        provider_id=None,
        status="failed",
        error_code="bounce",
        message_key=message.message_key,
    )
    assert outbox.apply_provider_update(db.session, bounce, NOW) is True
    assert message.status == DeliveryStatus.FAILED
    assert message.last_error == "sendgrid: failed (bounce)"


def test_sweeper_picks_lost_messages_only(app_ctx, handed):
    fresh = _queue(key="fresh", available_at=NOW - timedelta(seconds=5))
    old = _queue(key="old", available_at=NOW - timedelta(minutes=5))
    later = _queue(key="later", available_at=NOW + timedelta(hours=1))
    busy = _queue(key="busy", available_at=NOW - timedelta(minutes=5))
    _claim(NOW - timedelta(seconds=10), limit=10)  # takes old and busy
    db.session.refresh(old)
    outbox.record_retry(db.session, old, "503", NOW - timedelta(minutes=4), 6)
    old.available_at = NOW - timedelta(minutes=1)  # its wait is long over
    db.session.commit()

    ids = outbox.messages_to_hand_over(db.session, NOW, timedelta(seconds=30), 6)
    db.session.commit()
    assert ids == [old.id]
    assert fresh.id not in ids  # the queue may still have it
    assert later.id not in ids  # not due
    assert busy.id not in ids  # a worker is on it (recover_interrupted's business)
    # Just handed over: not again on the next sweep, but again once that is old news.
    assert (
        outbox.messages_to_hand_over(
            db.session, NOW + timedelta(seconds=10), timedelta(seconds=30), 6
        )
        == []
    )
    assert outbox.messages_to_hand_over(
        db.session, NOW + timedelta(minutes=1), timedelta(seconds=30), 6
    ) == [fresh.id, old.id]
