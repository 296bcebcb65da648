"""Outbox operations: queue a message, hand it over, record what the provider did with it.

Every function flushes and never commits; the caller owns the transaction. A message is
handed to the queue only after the transaction that wrote it commits (``grc.worktable``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from grc import worktable
from grc.config import Settings
from grc.db import as_written, insert_many, rows_changed, utcnow
from grc.messaging.models import (
    DeliveryStatus,
    MessageChannel,
    OutboxMessage,
    Purpose,
)

# Provider statuses that end a message's life, and the order they may arrive in.
_PROVIDER_PROGRESS = {"queued": 0, "sent": 1, "delivered": 2, "undelivered": 2, "failed": 2}


@dataclass(frozen=True)
class NewMessage:
    idempotency_key: str
    channel: MessageChannel
    purpose: Purpose
    recipient: str
    body_text: str
    subject: str | None = None
    body_html: str | None = None
    claim_id: int | None = None
    urgent: bool = False
    locale: str = "fr"
    available_at: datetime | None = None
    reply_to: str | None = None


def queue_message(
    session: Session, new: NewMessage, now: datetime | None = None
) -> OutboxMessage | None:
    """Write a message to the outbox, once per idempotency key (None if it already exists)."""
    now = now or utcnow()
    values = _outbox_values(new, now)
    # One statement whatever happens: a repeated key (a retried request, a job run twice)
    # inserts nothing and returns no id, with no SELECT beforehand and no race between the two.
    # The claim row exists already (its id is in the values), so nothing pending needs to be
    # written first: the caller's next flush or commit writes the rest in one go.
    insert = _idempotent_insert(session.get_bind().dialect.name)
    with session.no_autoflush:
        message_id = session.execute(insert, values).scalar_one_or_none()
    if message_id is None:
        return None
    message = as_written(session, OutboxMessage, values, {"id": message_id})
    worktable.after_commit(session, worktable.Work.DELIVERY, (message.id, message.available_at))
    return message


def queue_messages(
    session: Session, messages: list[NewMessage], now: datetime | None = None
) -> set[str]:
    """``queue_message`` for many messages in one statement (a watch's alerts): the
    idempotency keys written, a key that exists already writing nothing."""
    if not messages:
        return set()
    now = now or utcnow()
    rows = [_outbox_values(new, now) for new in messages]
    table = cast("sa.Table", OutboxMessage.__table__)  # a mapped class's Table
    written = insert_many(
        session,
        table,
        rows,
        skip_conflicts_on=("idempotency_key",),
        returning=("id", "idempotency_key"),
    )
    available_at = {row["idempotency_key"]: row["available_at"] for row in rows}
    for message_id, key in written:
        worktable.after_commit(session, worktable.Work.DELIVERY, (message_id, available_at[key]))
    return {key for _, key in written}


def _outbox_values(new: NewMessage, now: datetime) -> dict[str, object]:
    return {
        "idempotency_key": new.idempotency_key,
        "channel": new.channel,
        "purpose": new.purpose,
        "recipient": new.recipient,
        "subject": new.subject,
        "body_text": new.body_text,
        "body_html": new.body_html,
        "reply_to": new.reply_to,
        "claim_id": new.claim_id,
        "urgent": new.urgent,
        "locale": new.locale,
        "status": DeliveryStatus.PENDING,
        "available_at": new.available_at or now,
        "created_at": now,
    }


@functools.cache
def _idempotent_insert(dialect: str) -> ReturningInsert[Any]:
    # Built once, the values given as parameters: the compiled form is reused by every call.
    table = cast("sa.Table", OutboxMessage.__table__)  # a mapped class's Table
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return insert.on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(table.c.id)


def after_quiet_hours(now: datetime, quiet: tuple[time, time], tz: ZoneInfo) -> datetime:
    """``now``, or the end of the quiet period when ``now`` falls inside it."""
    start, end = quiet
    local = now.astimezone(tz)
    moment = local.time()
    inside = (start <= moment or moment < end) if start > end else (start <= moment < end)
    if not inside:
        return now
    day = local.date() if moment < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tz).astimezone(now.tzinfo)


# --- delivery -------------------------------------------------------------------------------


# How long a worker holds the messages it claimed unless told otherwise
# (``GRC_DELIVERY_LEASE_SECONDS``): past it, the sweeper takes them back.
DEFAULT_LEASE = timedelta(seconds=Settings.delivery_lease_seconds)


def _due(now: datetime, max_attempts: int) -> sa.ColumnElement[bool]:
    return sa.and_(
        OutboxMessage.status == DeliveryStatus.PENDING,
        OutboxMessage.available_at <= now,
        OutboxMessage.attempts < max_attempts,
    )


def claim_due_messages(
    session: Session,
    now: datetime,
    limit: int,
    max_attempts: int,
    lease: timedelta = DEFAULT_LEASE,
) -> list[OutboxMessage]:
    """Take up to ``limit`` due messages for one delivery attempt each, held for ``lease``.

    One ``UPDATE … RETURNING`` marks them ``sending``; on PostgreSQL the rows are picked with
    ``FOR UPDATE SKIP LOCKED``, so concurrent workers take disjoint batches and never wait
    for each other (SQLite runs one writer at a time). The caller commits this claim before
    calling any provider: two workers never both send, and a worker that dies mid-batch
    leaves its rows ``sending``, where the sweeper finds them once the lease is over
    (``recover_interrupted``). Each message's call is then marked as it starts
    (``mark_calls_started``).
    """
    claimed = worktable.claim_batch(
        session,
        OutboxMessage,
        _due(now, max_attempts),
        limit,
        {
            "status": DeliveryStatus.SENDING,
            "locked_at": now,
            "lease_expires_at": now + lease,
            "call_started_at": None,
            "attempts": OutboxMessage.attempts + 1,
        },
        OutboxMessage,
    )
    return sorted(claimed, key=lambda message: message.id)


def mark_calls_started(session: Session, messages: list[OutboxMessage], now: datetime) -> None:
    """The provider calls of ``messages`` start now. The caller commits this before making
    them: it is what tells a message the provider may have from one it never saw."""
    session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_([message.id for message in messages]))
        .values(call_started_at=now)
    )


INTERRUPTED_SMS_ERROR = (
    "The delivery was interrupted during the provider call: check with the provider whether "
    "the SMS left before sending it again."
)


def recover_interrupted(session: Session, now: datetime) -> int:
    """Messages whose worker went silent (killed, host lost) before recording an outcome
    and whose lease is over: how many (``_release``)."""
    return len(worktable.release_expired(session, work_table(), now))


def _release(session: Session, silent: sa.ColumnElement[bool], now: datetime) -> list[int]:
    """What becomes of the ``silent`` messages (``sending``, their lease over).

    A message whose provider call never started goes back to the queue: the provider never
    saw it. An e-mail whose call had started goes back too: it is sent again with the same
    message key, which the recipient's systems and our records recognise. An SMS whose call
    had started is not sent blindly again: the provider may have it, so it is set aside for
    a person to check.
    """
    uncertain = sa.and_(
        OutboxMessage.channel == MessageChannel.SMS, OutboxMessage.call_started_at.is_not(None)
    )
    released = {"locked_at": None, "lease_expires_at": None}
    again = session.scalars(
        sa.update(OutboxMessage)
        .where(silent, sa.not_(uncertain))
        .values(status=DeliveryStatus.PENDING, available_at=now, **released)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session="fetch")
    ).all()
    set_aside = session.scalars(
        sa.update(OutboxMessage)
        .where(silent, uncertain)
        .values(status=DeliveryStatus.NEEDS_CHECK, last_error=INTERRUPTED_SMS_ERROR, **released)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session="fetch")
    ).all()
    return [*again, *set_aside]


def _end_lease(message: OutboxMessage) -> None:
    """An outcome is recorded: the worker no longer holds the message."""
    message.locked_at = None
    message.lease_expires_at = None


def record_sent(
    session: Session, message: OutboxMessage, provider: str, provider_id: str, now: datetime
) -> None:
    message.status = DeliveryStatus.SENT
    message.provider, message.provider_id = provider, provider_id
    message.sent_at = now
    _end_lease(message)
    message.last_error = None
    session.flush()


# Waits before attempts 2, 3, 4…: the same steps as the delivery job's RQ ``Retry``.
RETRY_DELAYS = (10, 30, 120, 600, 1800)


def retry_delay(attempts: int) -> timedelta:
    return worktable.backoff(_RETRY_WAITS, attempts)


_RETRY_WAITS = tuple(timedelta(seconds=seconds) for seconds in RETRY_DELAYS)


def record_retry(
    session: Session, message: OutboxMessage, error: str, now: datetime, max_attempts: int
) -> bool:
    """A temporary failure: pending again after a growing wait (True), or failed once its
    attempts are used up."""
    message.last_error = error[:500]
    _end_lease(message)
    if message.attempts >= max_attempts:
        message.status = DeliveryStatus.FAILED
        message.failed_at = now
        session.flush()
        return False
    message.status = DeliveryStatus.PENDING
    message.available_at = now + retry_delay(message.attempts)
    session.flush()
    return True


def record_failure(session: Session, message: OutboxMessage, error: str, now: datetime) -> None:
    message.status = DeliveryStatus.FAILED
    message.last_error = error[:500]
    message.failed_at = now
    _end_lease(message)
    session.flush()


def record_unknown_outcome(session: Session, message: OutboxMessage, error: str) -> None:
    """The provider may or may not have sent the SMS: a person decides, nobody resends."""
    message.status = DeliveryStatus.NEEDS_CHECK
    message.last_error = error[:500]
    _end_lease(message)
    session.flush()


@dataclass(frozen=True)
class ProviderUpdate:
    provider: str
    provider_id: str | None
    status: str
    error_code: str | None = None
    message_key: str | None = None
    occurred_at: datetime | None = None


def apply_provider_update(session: Session, update: ProviderUpdate, now: datetime) -> bool:
    """Apply a delivery callback; True when it changed the record (repeats change nothing).

    One conditional ``UPDATE``: the row changes only while its provider status is behind
    the callback's, a condition the database checks on the row it writes. The same callback
    arriving twice at the same moment changes the record once, on every database, without
    a read beforehand.
    """
    message_id = _message_id_for_update(session, update)
    rank = _PROVIDER_PROGRESS.get(update.status)
    if message_id is None or rank is None:
        return False
    when = update.occurred_at or now
    values: dict[str, object] = {"provider_status": update.status}
    if update.provider_id:
        values["provider_id"] = sa.func.coalesce(OutboxMessage.provider_id, update.provider_id)
        values["provider"] = sa.case(
            (OutboxMessage.provider_id.is_(None), update.provider), else_=OutboxMessage.provider
        )
    if update.status == "delivered":
        values |= {"status": DeliveryStatus.DELIVERED, "delivered_at": when}
    elif update.status in ("failed", "undelivered"):
        values |= {
            "status": DeliveryStatus.FAILED,
            "failed_at": when,
            "last_error": f"{update.provider}: {update.status} ({update.error_code or '-'})",
        }
    elif update.provider_id:
        # The provider says it has the message: a send whose answer was lost is settled.
        unsettled = OutboxMessage.status.in_(
            (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.NEEDS_CHECK)
        )
        values |= {
            "status": sa.case(
                (unsettled, sa.literal(DeliveryStatus.SENT.value)), else_=OutboxMessage.status
            ),
            "sent_at": sa.case(
                (unsettled, sa.func.coalesce(OutboxMessage.sent_at, when)),
                else_=OutboxMessage.sent_at,
            ),
            "last_error": sa.case((unsettled, sa.null()), else_=OutboxMessage.last_error),
        }
    progress = sa.case(_PROVIDER_PROGRESS, value=OutboxMessage.provider_status, else_=-1)
    changed = session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, progress < rank)
        .values(values)
        .execution_options(synchronize_session="fetch")
    )
    return rows_changed(changed) == 1


def _message_id_for_update(session: Session, update: ProviderUpdate) -> int | None:
    if update.message_key and update.message_key.startswith("grc-outbox-"):
        try:
            message_id = int(update.message_key.removeprefix("grc-outbox-"))
        except ValueError:
            message_id = None
        if message_id is not None:
            found = session.execute(
                sa.select(OutboxMessage.id).where(OutboxMessage.id == message_id)
            ).scalar_one_or_none()
            if found is not None:
                return found
    if not update.provider_id:
        return None
    return session.execute(
        sa.select(OutboxMessage.id).where(
            OutboxMessage.provider == update.provider,
            OutboxMessage.provider_id == update.provider_id,
        )
    ).scalar_one_or_none()


def messages_to_hand_over(
    session: Session,
    now: datetime,
    after: timedelta,
    max_attempts: int,
    limit: int = worktable.SWEEP_LIMIT,
) -> list[int]:
    """Due messages the queue may have lost: pending, and not handed over for ``after``
    (marked handed over now)."""
    return worktable.hand_over_forgotten(session, work_table(max_attempts), now, after, limit)


def work_table(max_attempts: int = Settings.max_delivery_attempts) -> worktable.WorkTable:
    """The outbox as the sweeper sees it (``max_attempts``: ``GRC_MAX_DELIVERY_ATTEMPTS``)."""

    def forgotten(now: datetime, after: timedelta) -> sa.ColumnElement[bool]:
        # Due for a while: the after-commit hand-over (or RQ's retry) should have had it.
        return sa.and_(_due(now, max_attempts), OutboxMessage.available_at <= now - after)

    return worktable.WorkTable(
        work=worktable.Work.DELIVERY,
        model=OutboxMessage,
        held=OutboxMessage.status == DeliveryStatus.SENDING,
        forgotten=forgotten,
        release=_release,
    )


def cancel_pending(session: Session, claim_id: int, purpose: Purpose, reason: str) -> list[int]:
    """Withdraw the claim's messages of ``purpose`` that have not left (``reason`` is kept
    on each, for staff reading the delivery records); their ids.

    One ``UPDATE … WHERE status = 'pending'``: a message a delivery job already took
    (``sending``) is not withdrawn and leaves, one still pending is never taken afterwards,
    whichever transaction comes first (PostgreSQL re-checks the status after waiting for the
    row; SQLite has one writer at a time)."""
    withdrawn = session.scalars(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.claim_id == claim_id,
            OutboxMessage.purpose == purpose,
            OutboxMessage.status == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.CANCELLED, last_error=reason)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session="fetch")
    ).all()
    return sorted(withdrawn)


def retry_message(session: Session, message: OutboxMessage, now: datetime) -> None:
    """An administrator sends a failed or to-be-checked message again."""
    message.status = DeliveryStatus.PENDING
    message.attempts = 0
    message.available_at = now
    message.last_error = None
    session.flush()
    worktable.after_commit(session, worktable.Work.DELIVERY, (message.id, now))
