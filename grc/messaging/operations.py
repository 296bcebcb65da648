"""Outbox operations: queue a message, hand it over, record what the provider did with it.

Every function flushes and never commits; the caller owns the transaction. A message is
handed to the queue only after the transaction that wrote it commits (see ``handover``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached

from grc.claims.models import Claim
from grc.db import utcnow
from grc.messaging import handover
from grc.messaging.models import (
    FINAL_STATUSES,
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
    claim: Claim | None = None
    urgent: bool = False
    locale: str = "fr"
    available_at: datetime | None = None


def queue_message(
    session: Session, new: NewMessage, now: datetime | None = None
) -> OutboxMessage | None:
    """Write a message to the outbox, once per idempotency key (None if it already exists)."""
    now = now or utcnow()
    values = {
        "idempotency_key": new.idempotency_key,
        "channel": new.channel,
        "purpose": new.purpose,
        "recipient": new.recipient,
        "subject": new.subject,
        "body_text": new.body_text,
        "body_html": new.body_html,
        "claim_id": new.claim.id if new.claim is not None else None,
        "urgent": new.urgent,
        "locale": new.locale,
        "status": DeliveryStatus.PENDING,
        "available_at": new.available_at or now,
        "created_at": now,
    }
    # One statement whatever happens: a repeated key (a retried request, a job run twice)
    # inserts nothing and returns no id, with no SELECT beforehand and no race between the two.
    session.flush()
    insert = _insert_for(session).values(values)
    message_id = session.execute(
        insert.on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(
            OutboxMessage.id
        )
    ).scalar_one_or_none()
    if message_id is None:
        return None
    message = OutboxMessage(id=message_id, **values)
    make_transient_to_detached(message)
    session.add(message)
    handover.after_commit(session, message.id, message.available_at)
    return message


def _insert_for(session: Session) -> postgresql.Insert | sqlite.Insert:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(OutboxMessage)


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


def claim_for_delivery(
    session: Session, message_id: int, now: datetime, lease: timedelta
) -> OutboxMessage | None:
    """Take the message for one delivery attempt, or None when it is not ours to send now.

    The claim is committed before the provider is called, so two workers never both send,
    and a worker that dies mid-call leaves a visible trace: an e-mail is sent again with
    the same message key (recipients' systems and our records recognise the duplicate), an
    SMS is not sent blindly again but set aside for a person to check.
    """
    message = session.execute(
        sa.select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()
    ).scalar_one_or_none()
    if message is None or message.status in FINAL_STATUSES:
        return None
    if message.status == DeliveryStatus.SENDING:
        if message.locked_at is not None and message.locked_at > now - lease:
            return None  # another worker is on it
        if message.channel == MessageChannel.SMS:
            message.status = DeliveryStatus.NEEDS_CHECK
            message.last_error = (
                "The delivery was interrupted during the provider call: check with the "
                "provider whether the SMS left before sending it again."
            )
            session.flush()
            return None
    elif message.available_at > now:
        return None
    message.status = DeliveryStatus.SENDING
    message.locked_at = now
    message.attempts += 1
    session.flush()
    return message


def record_sent(
    session: Session, message: OutboxMessage, provider: str, provider_id: str, now: datetime
) -> None:
    message.status = DeliveryStatus.SENT
    message.provider, message.provider_id = provider, provider_id
    message.sent_at = now
    message.locked_at = None
    message.last_error = None
    session.flush()


def record_retry(
    session: Session, message: OutboxMessage, error: str, now: datetime, max_attempts: int
) -> bool:
    """A temporary failure: back to pending (True), or failed once attempts are used up."""
    message.last_error = error[:500]
    message.locked_at = None
    if message.attempts >= max_attempts:
        message.status = DeliveryStatus.FAILED
        message.failed_at = now
        session.flush()
        return False
    message.status = DeliveryStatus.PENDING
    session.flush()
    return True


def record_failure(session: Session, message: OutboxMessage, error: str, now: datetime) -> None:
    message.status = DeliveryStatus.FAILED
    message.last_error = error[:500]
    message.failed_at = now
    message.locked_at = None
    session.flush()


def record_unknown_outcome(session: Session, message: OutboxMessage, error: str) -> None:
    """The provider may or may not have sent the SMS: a person decides, nobody resends."""
    message.status = DeliveryStatus.NEEDS_CHECK
    message.last_error = error[:500]
    message.locked_at = None
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
    """Apply a delivery callback; True when it changed the record (repeats change nothing)."""
    message = _message_for_update(session, update)
    if message is None:
        return False
    rank = _PROVIDER_PROGRESS.get(update.status)
    if rank is None or rank <= _PROVIDER_PROGRESS.get(message.provider_status or "", -1):
        return False
    message.provider_status = update.status
    if message.provider_id is None and update.provider_id:
        message.provider_id = update.provider_id
        message.provider = update.provider
    when = update.occurred_at or now
    if update.status == "delivered":
        message.status = DeliveryStatus.DELIVERED
        message.delivered_at = when
    elif update.status in ("failed", "undelivered"):
        message.status = DeliveryStatus.FAILED
        message.failed_at = when
        message.last_error = f"{update.provider}: {update.status} ({update.error_code or '-'})"
    elif update.provider_id and message.status in (
        DeliveryStatus.PENDING,
        DeliveryStatus.SENDING,
        DeliveryStatus.NEEDS_CHECK,
    ):
        # The provider says it has the message: a send whose answer was lost is settled.
        message.status = DeliveryStatus.SENT
        message.sent_at = message.sent_at or when
        message.last_error = None
    session.flush()
    return True


def _message_for_update(session: Session, update: ProviderUpdate) -> OutboxMessage | None:
    if update.message_key and update.message_key.startswith("grc-outbox-"):
        try:
            message_id = int(update.message_key.removeprefix("grc-outbox-"))
        except ValueError:
            message_id = None
        if message_id is not None:
            found = session.get(OutboxMessage, message_id, with_for_update=True)
            if found is not None:
                return found
    if not update.provider_id:
        return None
    return session.execute(
        sa.select(OutboxMessage)
        .where(
            OutboxMessage.provider == update.provider,
            OutboxMessage.provider_id == update.provider_id,
        )
        .with_for_update()
    ).scalar_one_or_none()


def messages_to_hand_over(
    session: Session,
    now: datetime,
    after: timedelta,
    lease: timedelta,
    max_attempts: int,
    limit: int = 1000,
) -> list[int]:
    """Messages the queue may have lost: pending too long, or claimed by a silent worker."""
    stale_pending = sa.and_(
        OutboxMessage.status == DeliveryStatus.PENDING,
        OutboxMessage.available_at <= now,
        OutboxMessage.attempts < max_attempts,
        sa.func.coalesce(OutboxMessage.handed_at, OutboxMessage.created_at) <= now - after,
    )
    silent_worker = sa.and_(
        OutboxMessage.status == DeliveryStatus.SENDING,
        OutboxMessage.locked_at <= now - lease,
    )
    ids = list(
        session.execute(
            sa.select(OutboxMessage.id)
            .where(sa.or_(stale_pending, silent_worker))
            .order_by(OutboxMessage.id)
            .limit(limit)
        ).scalars()
    )
    if ids:
        session.execute(
            sa.update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(handed_at=now)
        )
    return ids


def retry_message(session: Session, message: OutboxMessage, now: datetime) -> None:
    """An administrator sends a failed or to-be-checked message again."""
    message.status = DeliveryStatus.PENDING
    message.attempts = 0
    message.available_at = now
    message.last_error = None
    session.flush()
    handover.after_commit(session, message.id, now)
