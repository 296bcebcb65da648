"""Outbox operations without Redis: claiming, recording, callbacks, the sweeper's choice."""

from __future__ import annotations

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
    from grc.messaging import handover

    previous = app_ctx.extensions["grc_outbox_dispatcher"]
    collected: list[tuple[int, datetime]] = []
    handover.set_dispatcher(app_ctx, collected.extend)
    yield collected
    handover.set_dispatcher(app_ctx, previous)


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


def test_claim_send_and_record(app_ctx, handed):
    message = _queue()
    claimed = outbox.claim_for_delivery(db.session, message.id, NOW, LEASE)
    db.session.commit()
    assert claimed.status == DeliveryStatus.SENDING
    assert claimed.attempts == 1
    # A second worker (or a duplicate job) finds it taken.
    assert (
        outbox.claim_for_delivery(db.session, message.id, NOW + timedelta(seconds=5), LEASE) is None
    )
    outbox.record_sent(db.session, claimed, "twilio", "SM123", NOW)
    db.session.commit()
    assert (
        outbox.claim_for_delivery(db.session, message.id, NOW + timedelta(hours=1), LEASE) is None
    )
    assert (claimed.status, claimed.provider_id, claimed.sent_at) == (
        DeliveryStatus.SENT,
        "SM123",
        NOW,
    )


def test_interrupted_sms_is_set_aside_for_a_person(app_ctx, handed):
    message = _queue()
    outbox.claim_for_delivery(db.session, message.id, NOW, LEASE)
    db.session.commit()
    later = NOW + LEASE + timedelta(seconds=1)
    assert outbox.claim_for_delivery(db.session, message.id, later, LEASE) is None
    db.session.commit()
    assert message.status == DeliveryStatus.NEEDS_CHECK
    assert "check with the provider" in message.last_error


def test_interrupted_email_is_sent_again_with_the_same_key(app_ctx, handed):
    message = _queue(channel=MessageChannel.EMAIL, subject="Demande")
    outbox.claim_for_delivery(db.session, message.id, NOW, LEASE)
    db.session.commit()
    again = outbox.claim_for_delivery(db.session, message.id, NOW + LEASE * 2, LEASE)
    assert again is not None
    assert again.attempts == 2
    assert again.message_key == f"grc-outbox-{message.id}"


def test_not_before_its_time(app_ctx, handed):
    message = _queue(available_at=NOW + timedelta(hours=3))
    assert outbox.claim_for_delivery(db.session, message.id, NOW, LEASE) is None
    assert (
        outbox.claim_for_delivery(db.session, message.id, NOW + timedelta(hours=3), LEASE)
        is not None
    )


def test_retries_then_fails(app_ctx, handed):
    message = _queue()
    for attempt in range(1, 4):
        outbox.claim_for_delivery(db.session, message.id, NOW, LEASE)
        will_retry = outbox.record_retry(db.session, message, "503 from provider", NOW, 3)
        assert will_retry is (attempt < 3)
    db.session.commit()
    assert message.status == DeliveryStatus.FAILED
    assert message.failed_at == NOW
    assert message.last_error == "503 from provider"


def test_callbacks_apply_once_and_only_forward(app_ctx, handed):
    message = _queue()
    outbox.claim_for_delivery(db.session, message.id, NOW, LEASE)
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


def test_callback_found_by_message_key(app_ctx, handed):
    message = _queue(channel=MessageChannel.EMAIL, subject="x")
    outbox.claim_for_delivery(db.session, message.id, NOW, LEASE)
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
    fresh = _queue(key="fresh")
    old = _queue(key="old")
    old.created_at = NOW - timedelta(minutes=5)
    later = _queue(key="later", available_at=NOW + timedelta(hours=1))
    later.created_at = NOW - timedelta(minutes=5)
    stuck = _queue(
        key="stuck",
        channel=MessageChannel.EMAIL,
        subject="x",
        available_at=NOW - timedelta(minutes=15),
    )
    outbox.claim_for_delivery(db.session, stuck.id, NOW - timedelta(minutes=10), LEASE)
    busy = _queue(key="busy")
    outbox.claim_for_delivery(db.session, busy.id, NOW - timedelta(seconds=10), LEASE)
    db.session.commit()

    ids = outbox.messages_to_hand_over(db.session, NOW, timedelta(seconds=30), LEASE, 6)
    db.session.commit()
    assert ids == [old.id, stuck.id]
    assert fresh.id not in ids
    assert later.id not in ids
    # Just handed over: not again on the next sweep.
    assert outbox.messages_to_hand_over(
        db.session, NOW + timedelta(seconds=10), timedelta(seconds=30), LEASE, 6
    ) == [stuck.id]
