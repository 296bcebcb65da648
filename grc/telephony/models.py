"""Calls received on the call centre's number, and the claims each one led to."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grc.db import StrEnum, UTCDateTime, enum_column_type, utcnow
from grc.extensions import Model

if TYPE_CHECKING:
    from grc.people.models import User


class CallStatus(StrEnum):
    WAITING = "waiting"  # in the queue, nobody has picked up
    IN_PROGRESS = "in_progress"  # an agent took it, the call goes on
    ANSWERED = "answered"  # over, an agent spoke with the caller
    ABANDONED = "abandoned"  # over, nobody did (hung up while waiting, queue full, failed)


ENDED_STATUSES = (CallStatus.ANSWERED, CallStatus.ABANDONED)
LIVE_STATUSES = (CallStatus.WAITING, CallStatus.IN_PROGRESS)


def _in(values: tuple[CallStatus, ...]) -> str:
    return "status IN (" + ", ".join(f"'{v.value}'" for v in values) + ")"


class Call(Model):
    """One incoming call, recorded once per Twilio ``CallSid`` (a repeated webhook finds the
    key taken). The two callbacks that end it each fill their own columns, the first value
    kept: ``queue_result`` and ``wait_seconds`` from <Enqueue>'s action,
    ``provider_status`` and ``duration_seconds`` from the call's status callback; the
    status is derived from what both said, whatever order they came in."""

    __tablename__ = "calls"
    __table_args__ = (
        # Over (answered or abandoned) exactly when the end is recorded.
        sa.CheckConstraint(
            f"({_in(ENDED_STATUSES)} AND ended_at IS NOT NULL) "
            f"OR ({_in(LIVE_STATUSES)} AND ended_at IS NULL)",
            name="ended_iff_over",
        ),
        # Taken by one agent at one moment, both or neither; waiting means nobody took it.
        sa.CheckConstraint("(taken_at IS NULL) = (taken_by_id IS NULL)", name="taken_by_whom"),
        sa.CheckConstraint(
            "status != 'in_progress' OR taken_at IS NOT NULL", name="in_progress_is_taken"
        ),
        sa.CheckConstraint("status != 'waiting' OR taken_at IS NULL", name="waiting_not_taken"),
        sa.CheckConstraint(
            "(taken_at IS NULL OR taken_at >= received_at) "
            "AND (ended_at IS NULL OR ended_at >= received_at)",
            name="times_ordered",
        ),
        sa.CheckConstraint(
            "(wait_seconds IS NULL OR wait_seconds >= 0) "
            "AND (duration_seconds IS NULL OR duration_seconds >= 0)",
            name="durations_positive",
        ),
        sa.Index("ix_calls_live", "status", "received_at"),
        # The call-centre report reads a period's calls whatever their status.
        sa.Index("ix_calls_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # E.164 like tenant phones; None for a withheld number ("anonymous") or no number at all.
    caller_number: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    called_number: Mapped[str] = mapped_column(sa.String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[CallStatus] = mapped_column(
        enum_column_type(CallStatus, "call_status"), default=CallStatus.WAITING
    )
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    taken_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Twilio's words, kept as said: QueueResult (bridged, hangup, queue-full…) and the
    # call's final CallStatus (completed, busy, failed, no-answer, canceled).
    queue_result: Mapped[str | None] = mapped_column(sa.String(32))
    provider_status: Mapped[str | None] = mapped_column(sa.String(20))
    # QueueTime: seconds in the queue. CallDuration: seconds from Twilio answering the call
    # (our TwiML) to its end, the wait included.
    wait_seconds: Mapped[int | None] = mapped_column()
    duration_seconds: Mapped[int | None] = mapped_column()

    taken_by: Mapped[User | None] = relationship()
    claims: Mapped[list[CallClaim]] = relationship(
        back_populates="call", order_by="CallClaim.linked_at", cascade="all, delete-orphan"
    )

    @property
    def handling_seconds(self) -> int | None:
        """Time spent with an agent: the call's duration less its wait, for answered calls
        once both callbacks are in."""
        if (
            self.status != CallStatus.ANSWERED
            or self.duration_seconds is None
            or self.wait_seconds is None
        ):
            return None
        return max(self.duration_seconds - self.wait_seconds, 0)


class CallClaim(Model):
    """A claim registered (or found) during a call; a call may lead to several claims, and
    linking the same one twice records it once."""

    __tablename__ = "call_claims"

    call_id: Mapped[int] = mapped_column(
        sa.ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True
    )
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claims.id"), primary_key=True, index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    linked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    call: Mapped[Call] = relationship(back_populates="claims")
