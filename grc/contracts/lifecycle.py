"""The work-order lifecycle: which event moves an order from which status to which. Nothing
else changes an order's status.

sent ──► acknowledged ──► scheduled ──► done
  │           │              │    (the contractor may answer "done" at any open step)
  └───────────┴──────────────┴──► cannot_intervene ──► (acknowledged, scheduled, done)

any open status ──► cancelled   (the claim was cancelled, or a unit took it back)
any open status ──► superseded  (the claim went to another contract: a new order replaces it)

done, cancelled and superseded are final: a reply or a click about such an order changes
nothing; it is filed on the claim's timeline for a person to read.
"""

from __future__ import annotations

from datetime import datetime

from grc.contracts.models import WorkOrder
from grc.contracts.models import WorkOrderStatus as S
from grc.db import StrEnum


class OrderEvent(StrEnum):
    ACKNOWLEDGE = "acknowledge"  # "prise en charge", by reply or one-click link
    SCHEDULE = "schedule"  # a visit is planned
    COMPLETE = "complete"  # "intervention terminée"
    CANNOT_INTERVENE = "cannot_intervene"  # tenant absent, quote needed, not covered…
    CANCEL = "cancel"
    SUPERSEDE = "supersede"


_OPEN = (S.SENT, S.ACKNOWLEDGED, S.SCHEDULED, S.CANNOT_INTERVENE)

TRANSITIONS: dict[OrderEvent, dict[S, S]] = {
    # A planned visit stays planned when the contractor confirms taking the job again.
    OrderEvent.ACKNOWLEDGE: {
        S.SENT: S.ACKNOWLEDGED,
        S.ACKNOWLEDGED: S.ACKNOWLEDGED,
        S.SCHEDULED: S.SCHEDULED,
        S.CANNOT_INTERVENE: S.ACKNOWLEDGED,
    },
    OrderEvent.SCHEDULE: dict.fromkeys(_OPEN, S.SCHEDULED),
    OrderEvent.COMPLETE: dict.fromkeys(_OPEN, S.DONE),
    OrderEvent.CANNOT_INTERVENE: {
        S.SENT: S.CANNOT_INTERVENE,
        S.ACKNOWLEDGED: S.CANNOT_INTERVENE,
        S.SCHEDULED: S.CANNOT_INTERVENE,
        S.CANNOT_INTERVENE: S.CANNOT_INTERVENE,
    },
    OrderEvent.CANCEL: dict.fromkeys(_OPEN, S.CANCELLED),
    OrderEvent.SUPERSEDE: dict.fromkeys(_OPEN, S.SUPERSEDED),
}

FINAL_STATUSES = frozenset({S.DONE, S.CANCELLED, S.SUPERSEDED})

# How the timeline and the staff name an order that can no longer move.
FINAL_WORDS = {
    S.DONE: "terminé",
    S.CANCELLED: "annulé",
    S.SUPERSEDED: "remplacé par un nouvel ordre",
}


class OrderFinished(Exception):
    """The order is done, cancelled or superseded: nothing moves it any more."""

    def __init__(self, order: WorkOrder, event: OrderEvent) -> None:
        super().__init__(f"Work order {order.id} is {order.status}: '{event}' changes nothing.")
        self.order = order
        self.event = event


def is_final(order: WorkOrder) -> bool:
    return order.status in FINAL_STATUSES


def move(order: WorkOrder, event: OrderEvent, now: datetime) -> S:
    """Apply ``event`` to ``order`` with the timestamps its new status needs (the database
    checks they agree); raises ``OrderFinished`` for an order that can no longer move."""
    try:
        target = TRANSITIONS[event][order.status]
    except KeyError:
        raise OrderFinished(order, event) from None
    if target in (S.ACKNOWLEDGED, S.SCHEDULED, S.DONE):
        order.acknowledged_at = order.acknowledged_at or now
    if target == S.DONE:
        order.completed_at = now
        order.needs_attention = False
    if target in (S.CANCELLED, S.SUPERSEDED):
        order.cancelled_at = now
        order.needs_attention = False
    order.status = target
    return target
