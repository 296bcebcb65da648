"""The delivery job's threads, in-process: each message is marked as started (and that
committed) by its own thread just before its call, and no call waits for another."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
import sqlalchemy as sa
from flask import Flask

from grc.extensions import db
from grc.messaging import operations as outbox
from grc.messaging.models import DeliveryStatus, MessageChannel, OutboxMessage, Purpose
from notifications.base import EmailMessage, SendResult, SmsMessage
from tests.dispatchers import Ignoring, replaced_dispatchers
from workers.jobs import deliver_due_messages
from workers.senders import set_senders

THREADS = 4
BATCH = 8
SLOW = "Message 0"


class HeldFirstSender:
    """An SMS provider whose answer to ``SLOW`` waits until every other text was answered;
    each call notes whether its own message, and which others, were committed as started."""

    def __init__(self, app: Flask) -> None:
        self.engine = db.engine  # the calls come from threads without an app context
        self.lock = threading.Lock()
        self.answered: list[str] = []
        self.others_answered = threading.Event()
        self.started_when_called: dict[str, set[str]] = {}

    def send_sms(self, message: SmsMessage) -> SendResult:
        with self.engine.connect() as connection:  # what a worker killed now would leave
            started = set(
                connection.execute(
                    sa.select(OutboxMessage.body_text).where(
                        OutboxMessage.call_started_at.is_not(None)
                    )
                ).scalars()
            )
        with self.lock:
            self.started_when_called[message.body] = started
        if message.body == SLOW:
            assert self.others_answered.wait(timeout=10), "a call waited for the slow one"
        with self.lock:
            self.answered.append(message.body)
            if len(self.answered) == BATCH - 1 and SLOW not in self.answered:
                self.others_answered.set()
        return SendResult("memory", f"SM{message.body.split()[-1]}")

    def send_email(self, message: EmailMessage) -> SendResult:
        raise AssertionError("only texts here")


@pytest.fixture
def held_first(app_ctx: Flask) -> Iterator[HeldFirstSender]:
    settings = app_ctx.extensions["grc_settings"]
    app_ctx.extensions["grc_settings"] = replace(
        settings, delivery_threads=THREADS, delivery_batch=BATCH
    )
    sender = HeldFirstSender(app_ctx)
    set_senders(app_ctx, sender, sender)
    try:
        with replaced_dispatchers(app_ctx, delivery=Ignoring()):
            yield sender
    finally:
        app_ctx.extensions["grc_settings"] = settings


def test_no_call_waits_for_another_and_each_is_marked_before_it_is_made(held_first) -> None:
    for n in range(BATCH):
        outbox.queue_message(
            db.session,
            outbox.NewMessage(
                idempotency_key=f"threads-{n}",
                channel=MessageChannel.SMS,
                purpose=Purpose.ACKNOWLEDGEMENT,
                recipient="+33612345678",
                body_text=f"Message {n}",
            ),
        )
    db.session.commit()

    assert deliver_due_messages() == f"sent={BATCH}"

    # The slow call held its thread only: the other seven were answered meanwhile, though
    # four threads were busy when it started (in waves, four would have waited for it).
    assert held_first.answered[-1] == SLOW
    assert len(held_first.answered) == BATCH
    # Every call found its own message committed as started; and when the first calls were
    # made, the messages the threads had not reached yet were not marked (a worker killed
    # then leaves them to be sent again).
    for body, started in held_first.started_when_called.items():
        assert body in started
    assert min(len(started) for started in held_first.started_when_called.values()) <= THREADS
    db.session.expire_all()
    statuses = db.session.scalars(sa.select(OutboxMessage.status)).all()
    assert statuses == [DeliveryStatus.SENT] * BATCH
