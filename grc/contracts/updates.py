"""A contractor's update applied to the work order and its claim: taken on, visit planned,
work done, whether it came by a reply e-mail (``grc.inbound.processing``) or a one-click
link (``grc.contracts.views``). It moves the claim through the claims' own operations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from grc.claims import operations
from grc.claims.lifecycle import Action
from grc.claims.models import ClaimStatus
from grc.contracts import lifecycle
from grc.contracts.lifecycle import OrderEvent
from grc.contracts.models import WorkOrder
from grc.db import StrEnum

# schedule_appointment's own rule: a visit up to an hour ago is still recorded.
VISIT_PAST_TOLERANCE = timedelta(hours=1)


@dataclass(frozen=True)
class ContractorUpdate:
    """What the contractor told us, once understood: applied to the work order and the claim."""

    kind: str  # acknowledged, scheduled, done
    text: str
    appointment_at: datetime | None = None
    appointment_end: datetime | None = None
    source: str = "email"  # email, link


class UpdateOutcome(StrEnum):
    APPLIED = "applied"  # the order and the claim moved
    ORDER_FINISHED = "order_finished"  # the order is done, cancelled or superseded
    CLAIM_FINISHED = "claim_finished"  # the claim is resolved, closed or cancelled
    VISIT_PAST = "visit_past"  # the visit read is already past, or missing


_ORDER_EVENTS = {
    "acknowledged": OrderEvent.ACKNOWLEDGE,
    "scheduled": OrderEvent.SCHEDULE,
    "done": OrderEvent.COMPLETE,
}


def apply_contractor_update(
    session: Session, work_order: WorkOrder, update: ContractorUpdate, now: datetime
) -> UpdateOutcome:
    """Move the work order and its claim forward. Any other outcome has changed nothing: the
    order can no longer move (done, cancelled, superseded: see ``file_on_finished_order``),
    the claim can no longer move (closed, cancelled, resolved), or the visit is already
    past; a person then reads the message."""
    event = _ORDER_EVENTS.get(update.kind)
    if event is None:
        raise ValueError(f"unknown contractor update {update.kind!r}")
    claim = work_order.claim
    if lifecycle.is_final(work_order):
        return UpdateOutcome.ORDER_FINISHED
    if not claim.is_open or claim.status == ClaimStatus.RESOLVED:
        return UpdateOutcome.CLAIM_FINISHED
    if update.kind == "scheduled" and (
        update.appointment_at is None or update.appointment_at < now - VISIT_PAST_TOLERANCE
    ):
        return UpdateOutcome.VISIT_PAST
    work_order.last_reply_at = now
    # "Done" resolves straight from assigned (one status change, not two).
    if update.kind != "done" and claim.status in (ClaimStatus.RECEIVED, ClaimStatus.ASSIGNED):
        operations.transition_claim(
            session,
            claim,
            operations.TransitionRequest(Action.START, comment=None),
            None,
            now,
            work_order=work_order,
        )
    if update.kind == "scheduled" and update.appointment_at is not None:  # checked above
        operations.schedule_appointment(
            session,
            claim,
            update.appointment_at,
            None,
            now,
            end=update.appointment_end,
            note=update.text[:500],
            work_order=work_order,
        )
    elif update.kind == "done":
        # The claim first, while the order still allows the contractor to act on it.
        operations.transition_claim(
            session,
            claim,
            operations.TransitionRequest(
                Action.RESOLVE,
                comment=f"Intervention terminée selon {work_order.contractor.name} : "
                + (update.text.strip()[:1000] or "(sans commentaire)"),
            ),
            None,
            now,
            work_order=work_order,
        )
    lifecycle.move(work_order, event, now)
    session.flush()
    return UpdateOutcome.APPLIED
