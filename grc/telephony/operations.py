"""Use cases of incoming calls. They flush, never commit; the request commits.

Twilio's callbacks may come twice, at the same moment, or in any order: each is written by
one statement whose condition the database checks on the row it writes (a key taken, a
column still empty), so a repeat changes nothing and a late one cannot undo an earlier.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.sql.dml import ReturningInsert

from grc.claims.models import Claim
from grc.clock import local_today
from grc.db import rows_changed
from grc.errors import Conflict
from grc.people.models import User
from grc.people.search import TenantMatch, normalise_phone, search_tenants
from grc.telephony.models import ENDED_STATUSES, LIVE_STATUSES, Call, CallClaim, CallStatus
from grc.text import storable

log = logging.getLogger(__name__)

# QueueResult values of a call an agent picked up (<Dial><Queue> bridged it). Every other
# result (hangup, queue-full, redirected, leave, error, system-error) left the queue unheard.
ANSWERED_QUEUE_RESULTS = ("bridged", "bridging-in-process")
# Final CallStatus values of the status callback; queued, ringing and in-progress are news
# of a call still going on, which the record already knows.
FINAL_PROVIDER_STATUSES = ("completed", "busy", "failed", "no-answer", "canceled")
UNANSWERED_PROVIDER_STATUSES = ("busy", "failed", "no-answer", "canceled")
# A call still live after this long lost its ending callbacks: the console no longer shows
# it (nobody has been waiting on the line for half a day).
STALE_AFTER = timedelta(hours=12)


@dataclass(frozen=True)
class CallInProgress:
    call: Call
    # Tenants holding the caller's number, with their current dwelling; several share a
    # landline, none for an unknown or withheld number.
    callers: list[TenantMatch]
    # Seconds since the call came in.
    elapsed_seconds: int


def receive_call(
    session: Session, call_sid: str, from_number: str | None, to_number: str | None, now: datetime
) -> Call | None:
    """Record an incoming call, waiting in the queue; None when this ``CallSid`` was
    recorded before (nothing changes)."""
    values = {
        "call_sid": call_sid,
        "caller_number": normalise_phone(from_number) if from_number else None,
        "called_number": storable(to_number or "")[:32],
        "received_at": now,
        "status": CallStatus.WAITING.value,
    }
    call_id = session.execute(_insert_call(session.get_bind().dialect.name), values).scalar()
    if call_id is None:
        log.info("incoming call %s received again: ignored", call_sid)
        return None
    log.info("incoming call %s queued", call_sid)
    return session.get(Call, call_id)


def record_queue_result(
    session: Session, call_sid: str, queue_result: str, wait_seconds: int | None, now: datetime
) -> bool:
    """<Enqueue>'s action: the call left the queue, answered (bridged to an agent) or not,
    after ``wait_seconds``. The first report is kept; False when it changed nothing."""
    result = session.execute(
        _ending(session, Call.queue_result.is_(None), now, queue_result=queue_result[:32])
        .where(Call.call_sid == call_sid)
        .values(queue_result=queue_result[:32], wait_seconds=wait_seconds)
    )
    changed = rows_changed(result) == 1
    log.info("call %s left the queue: %s (changed=%s)", call_sid, queue_result, changed)
    return changed


def record_call_status(
    session: Session,
    call_sid: str,
    provider_status: str,
    duration_seconds: int | None,
    now: datetime,
) -> bool:
    """The call's status callback. Only its end matters (completed, busy, failed, no-answer,
    canceled, with the call's duration): earlier statuses, even arriving late, change
    nothing. False when nothing changed."""
    if provider_status not in FINAL_PROVIDER_STATUSES:
        return False
    result = session.execute(
        _ending(session, Call.provider_status.is_(None), now, provider_status=provider_status)
        .where(Call.call_sid == call_sid)
        .values(provider_status=provider_status, duration_seconds=duration_seconds)
    )
    changed = rows_changed(result) == 1
    log.info("call %s ended: %s (changed=%s)", call_sid, provider_status, changed)
    return changed


def _not_before_received(session: Session, now: datetime) -> sa.ColumnElement[Any]:
    """``now``, or the call's arrival if that is later: the web servers' clocks may differ by
    a moment, and a call refused at once (queue full) must still be recorded as over rather
    than break its CHECK constraint on every retry."""
    later = sa.func.greatest if session.get_bind().dialect.name == "postgresql" else sa.func.max
    return later(sa.literal(now, Call.received_at.type), Call.received_at)


def _ending(
    session: Session,
    unset: sa.ColumnElement[bool],
    now: datetime,
    *,
    queue_result: str | None = None,
    provider_status: str | None = None,
) -> sa.Update:
    """The UPDATE of one ending callback: it applies where its own column is still empty (the
    first report is kept),
    and sets the status from what both callbacks said so far (the row's values merged with
    this one's). SET expressions read the row as it was, and PostgreSQL re-reads a row
    another transaction changed meanwhile before writing it: whichever order the callbacks
    come in, the last one sees the other's words."""
    said_queue = sa.func.coalesce(Call.queue_result, sa.cast(queue_result, sa.String))
    said_status = sa.func.coalesce(Call.provider_status, sa.cast(provider_status, sa.String))
    taken = Call.taken_at.is_not(None)
    status = sa.case(
        (said_queue.in_(ANSWERED_QUEUE_RESULTS), CallStatus.ANSWERED.value),
        (said_queue.is_not(None), CallStatus.ABANDONED.value),
        (said_status.in_(UNANSWERED_PROVIDER_STATUSES), CallStatus.ABANDONED.value),
        # Over, and Twilio has not yet said whether the queue bridged it: an agent who took
        # it spoke with the caller. <Enqueue>'s report, when it comes, has the last word.
        (
            said_status.is_not(None),
            sa.case((taken, CallStatus.ANSWERED.value), else_=CallStatus.ABANDONED.value),
        ),
        else_=Call.status,
    )
    return (
        sa.update(Call)
        .where(unset)
        .values(
            status=status,
            ended_at=sa.func.coalesce(Call.ended_at, _not_before_received(session, now)),
        )
        .execution_options(synchronize_session=False)
    )


def calls_in_progress(session: Session, now: datetime) -> list[CallInProgress]:
    """Calls waiting in the queue or being handled, oldest first, each with the tenants
    whose phone is the caller's number (found by the tenant search, as an agent typing the
    number would)."""
    calls = list(
        session.execute(
            sa.select(Call)
            .where(Call.status.in_(LIVE_STATUSES), Call.received_at > now - STALE_AFTER)
            .order_by(Call.received_at, Call.id)
            .options(joinedload(Call.taken_by), joinedload(Call.claims))
        )
        .unique()
        .scalars()
    )
    today = local_today(now)
    callers: dict[str, list[TenantMatch]] = {}
    for number in {c.caller_number for c in calls if c.caller_number}:
        callers[number] = search_tenants(session, number, today).matches
    return [
        CallInProgress(
            call,
            callers.get(call.caller_number, []) if call.caller_number else [],
            max(int((now - call.received_at).total_seconds()), 0),
        )
        for call in calls
    ]


def take_call(session: Session, call: Call, user: User, now: datetime) -> Call:
    """``user`` picks up ``call``. Of two agents taking it at once, the database lets one
    win; the other is refused, told who has it. Taking a call one already has is a no-op."""
    taken = session.execute(
        sa.update(Call)
        .where(Call.id == call.id, Call.status == CallStatus.WAITING)
        .values(
            status=CallStatus.IN_PROGRESS,
            taken_at=_not_before_received(session, now),
            taken_by_id=user.id,
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(call)
    if rows_changed(taken) == 1 or (
        call.status == CallStatus.IN_PROGRESS and call.taken_by_id == user.id
    ):
        return call
    if call.status in ENDED_STATUSES:
        raise Conflict(f"This call is over ({call.status}).")
    holder = cast("User", call.taken_by)  # not waiting, not over: taken (CHECK constraints)
    raise Conflict(f"This call was taken by {holder.name}.")


def link_claim(session: Session, call: Call, claim: Claim, user: User, now: datetime) -> bool:
    """Record that ``claim`` was registered (or dealt with) during ``call``; linking it
    again changes nothing (False)."""
    values = {"call_id": call.id, "claim_id": claim.id, "linked_at": now, "linked_by_id": user.id}
    # RETURNING says whether the row was written: a DBAPI's rowcount after ON CONFLICT is
    # not to be relied on across drivers.
    linked = (
        session.execute(_insert_link(session.get_bind().dialect.name), values).first() is not None
    )
    if linked:
        # Both sides read the link table: neither may keep the list it loaded before.
        session.expire(call, ["claims"])
        session.expire(claim, ["calls"])
    return linked


@functools.cache
def _insert_call(dialect: str) -> ReturningInsert[Any]:
    table = cast("sa.Table", Call.__table__)  # a mapped class's Table
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return insert.on_conflict_do_nothing(index_elements=["call_sid"]).returning(table.c.id)


@functools.cache
def _insert_link(dialect: str) -> ReturningInsert[Any]:
    table = cast("sa.Table", CallClaim.__table__)  # a mapped class's Table
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return insert.on_conflict_do_nothing(index_elements=["call_id", "claim_id"]).returning(
        table.c.claim_id
    )
