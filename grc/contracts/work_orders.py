"""Work orders: e-mailed to the contractor when routing picks a contract, moved forward by the
contractor's replies and one-click links, chased before the contract's deadlines.

Every function flushes and never commits; the caller owns the transaction.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from grc.claims import timeline
from grc.claims.alerts import not_alerted, record_alerts
from grc.claims.models import OPEN_STATUSES, Claim, EventKind, LocationKind
from grc.claims.notify import DigestLine, StaffAlert, StaffRecipients, staff_alert_messages
from grc.clock import settings
from grc.contracts import lifecycle
from grc.contracts.lifecycle import OrderEvent
from grc.contracts.models import OPEN_WORK_ORDER_STATUSES, WorkOrder, WorkOrderStatus
from grc.db import among_ids, epoch_seconds, insert_returning, rows_changed
from grc.errors import Conflict, InvalidInput
from grc.messaging.models import MessageChannel, OutboxMessage, Purpose
from grc.messaging.operations import NewMessage, queue_message, queue_messages
from grc.messaging.rendering import RenderedEmail, render_email
from grc.people.models import Tenant, User

# wo+<id>-<16 hex>@domain: lower case and digits only, so mail systems that fold the local
# part's case keep it intact.
_REPLY_ADDRESS = re.compile(r"^wo\+(\d{1,10})-([0-9a-f]{16})@(.+)$")
_ACTION_SALT = "grc-work-order-action"
ACTION_LINK_MAX_AGE = timedelta(days=90)


class LinkAction:
    """What a signed link in a work-order e-mail does (not a claim's ``Action``)."""

    TAKE = "prise-en-charge"
    DONE = "intervention-terminee"
    # The confirmations a page button applies.
    ALL = (TAKE, DONE)
    # Not an action: opens the page of the claim's photos, and nothing else.
    PHOTOS = "photos"


# What the claim's timeline calls each confirmation by link. In French, as every line the
# timeline keeps: the landlord's staff read it, whatever language the contractor's page spoke.
LINK_CONFIRMATIONS = {LinkAction.TAKE: "Prise en charge", LinkAction.DONE: "Intervention terminée"}


def link_confirmation_line(order: WorkOrder, action: str) -> str:
    """The timeline's line for the contractor's click on ``action``'s link (no full stop)."""
    return (
        f"{order.contractor.name} : « {LINK_CONFIRMATIONS[action]} » confirmé par le lien de "
        "l'ordre de service"
    )


PRIORITY_WORDS = {"urgent": "urgente", "high": "haute", "normal": "normale", "low": "basse"}


def _signature(work_order_id: int) -> str:
    key = settings().secret_key.encode()
    digest = hmac.new(key, f"work-order:{work_order_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:16]


def reply_address(work_order: WorkOrder) -> str:
    return f"wo+{work_order.id}-{_signature(work_order.id)}@{settings().inbound_domain}"


def work_order_id_from_address(address: str) -> int | None:
    """The work order a reply address names, if its signature is right (None otherwise)."""
    match = _REPLY_ADDRESS.match(address.strip().lower())
    if match is None or match.group(3) != settings().inbound_domain:
        return None
    work_order_id = int(match.group(1))
    if not hmac.compare_digest(match.group(2), _signature(work_order_id)):
        return None
    return work_order_id


def _serializer() -> URLSafeTimedSerializer:
    return _serializer_for(settings().secret_key)


@functools.lru_cache(maxsize=4)
def _serializer_for(secret_key: str) -> URLSafeTimedSerializer:
    # One per key: a watch signs links for thousands of orders.
    return URLSafeTimedSerializer(secret_key, salt=_ACTION_SALT)


def action_token(work_order: WorkOrder, action: str) -> str:
    return _serializer().dumps([work_order.id, action])


def read_action_token(
    token: str, allowed: tuple[str, ...] = LinkAction.ALL
) -> tuple[int, str] | None:
    """The work order and purpose a link names, if signed, unexpired and one of ``allowed``:
    each token serves one purpose only (a photos link confirms nothing, and the reverse)."""
    try:
        work_order_id, action = _serializer().loads(
            token, max_age=int(ACTION_LINK_MAX_AGE.total_seconds())
        )
    except (BadSignature, ValueError, TypeError):
        return None
    if action not in allowed or not isinstance(work_order_id, int):
        return None
    return work_order_id, action


# --- out ------------------------------------------------------------------------------------


def open_work_order(session: Session, claim: Claim, now: datetime) -> WorkOrder:
    """The order for a claim routed to a contractor, and its e-mail, in the claim's transaction."""
    contract = claim.contract
    if contract is None or claim.contractor is None:
        raise ValueError("only a claim routed to a contract gets a work order")
    # The contract's deadlines, for the claim's priority, run in calendar hours: contractors
    # work to the clock, and emergencies (elevators, no heating) do not wait for Monday.
    acknowledge_hours, complete_hours = contract.deadlines(str(claim.priority))
    complete_due = now + timedelta(hours=complete_hours)
    # The order keeps what the contract says; when that is later than what the claim
    # promises the tenant, the conflict is written on the order, in its e-mail and on the
    # claim's timeline, for the supervising unit to settle.
    beyond = complete_due > claim.resolution_due
    work_order = insert_returning(
        session,
        WorkOrder,
        {
            "claim_id": claim.id,
            "contract_id": contract.id,
            "contractor_id": claim.contractor.id,
            "status": WorkOrderStatus.SENT,
            "acknowledge_due": now + timedelta(hours=acknowledge_hours),
            "complete_due": complete_due,
            "beyond_claim_deadline": beyond,
            "created_at": now,
        },
        {"claim": claim, "contract": contract, "contractor": claim.contractor},
    )
    _send(session, work_order, Purpose.WORK_ORDER, now, key=f"work_order:{work_order.id}")
    record_on_claim(
        session,
        claim,
        now,
        f"Ordre de service envoyé à {claim.contractor.name} (contrat {contract.reference}).",
        {"work_order_id": work_order.id, "contractor_id": claim.contractor.id},
    )
    if beyond:
        from grc.claims.notify import local_datetime_text

        contract_due = local_datetime_text(complete_due, "fr")
        claim_due = local_datetime_text(claim.resolution_due, "fr")
        record_on_claim(
            session,
            claim,
            now,
            f"Attention : le contrat {contract.reference} laisse à {claim.contractor.name} "
            f"jusqu'au {contract_due} pour intervenir, après l'échéance de résolution de la "
            f"demande ({claim_due}).",
            {
                "work_order_id": work_order.id,
                "complete_due": complete_due.isoformat(),
                "resolution_due": claim.resolution_due.isoformat(),
            },
        )
    return work_order


def _send(
    session: Session, work_order: WorkOrder, purpose: Purpose, now: datetime, *, key: str
) -> OutboxMessage | None:
    return queue_message(session, _order_email(work_order, purpose, key=key), now)


def _order_email(work_order: WorkOrder, purpose: Purpose, *, key: str) -> NewMessage:
    email = render_email(purpose, "fr", **work_order_context(work_order))
    return NewMessage(
        idempotency_key=key,
        channel=MessageChannel.EMAIL,
        purpose=purpose,
        recipient=work_order.contractor.email,
        subject=email.subject,
        body_text=email.text,
        body_html=email.html,
        claim_id=work_order.claim.id,
        urgent=True,  # a contractor's mailbox has no quiet hours
        reply_to=reply_address(work_order),
    )


def work_order_context(work_order: WorkOrder, *, contractor_links: bool = True) -> dict[str, Any]:
    """What the order's e-mails say; ``contractor_links``: with the links that confirm the
    order (for the contractor's e-mails only: the unit's escalation has the photos link)."""
    from grc.claims.notify import local_datetime_text

    claim = work_order.claim
    building = claim.building
    place = [building.address]
    place.append(f"Résidence {claim.residence.name}, bâtiment {building.code}")
    if building.entrance:
        place.append(f"Entrée {building.entrance}")
    if claim.dwelling is not None:
        floor = "rez-de-chaussée" if claim.dwelling.floor == 0 else f"étage {claim.dwelling.floor}"
        place.append(f"Logement {claim.dwelling.code} : {floor}, porte {claim.dwelling.door}")
    elif claim.location_kind == LocationKind.BUILDING:
        place.append("Parties communes")
    # Only what the visit needs: the occupant's name and a number to arrange access to a
    # dwelling; nothing for common areas or equipment.
    contact = None
    if claim.location_kind == LocationKind.DWELLING and claim.tenant is not None:
        phone = claim.tenant.phones[0].number if claim.tenant.phones else None
        contact = claim.tenant.full_name + (f", {phone}" if phone else "")
    public = settings().public_url or ""
    context = {
        "landlord": settings().landlord_name,
        "reference": claim.reference,
        "category": claim.category.label("fr"),
        "priority": PRIORITY_WORDS.get(str(claim.priority), str(claim.priority)),
        "description": claim.description,
        "place": place,
        "address_line": place[0],
        "equipment": (
            f"{claim.equipment.label} ({claim.equipment.code})" if claim.equipment else None
        ),
        "contact": contact,
        "contract": work_order.contract.reference,
        "contractor": work_order.contractor.name,
        "acknowledge_due": local_datetime_text(work_order.acknowledge_due, "fr"),
        "complete_due": local_datetime_text(work_order.complete_due, "fr"),
        # Set when the contract allows longer than the claim's own resolution deadline.
        "claim_resolution_due": (
            local_datetime_text(claim.resolution_due, "fr")
            if work_order.beyond_claim_deadline
            else None
        ),
        # Always given: the order usually leaves before any photo is added to the claim.
        "photos_url": f"{public}/wo/{action_token(work_order, LinkAction.PHOTOS)}/photos",
        "unit": claim.unit.name,
    }
    if contractor_links:
        context["take_url"] = f"{public}/wo/{action_token(work_order, LinkAction.TAKE)}"
        context["done_url"] = f"{public}/wo/{action_token(work_order, LinkAction.DONE)}"
    return context


def record_on_claim(
    session: Session,
    claim: Claim,
    now: datetime,
    body: str,
    changes: dict[str, object],
    *,
    kind: EventKind = EventKind.WORK_ORDER,
) -> None:
    timeline.add_event(session, claim, kind, now, body=body, changes=changes)


# --- replies and one-click links -------------------------------------------------------------


def file_on_finished_order(
    session: Session,
    order: WorkOrder,
    now: datetime,
    what: str,
    changes: dict[str, object],
) -> None:
    """A reply or a click about an order that can no longer move: nothing changes on the
    order or the claim; it is filed on the timeline, saying so, and the order is put in
    the supervising unit's attention list."""
    status_words = lifecycle.FINAL_WORDS[order.status]
    record_on_claim(
        session,
        order.claim,
        now,
        f"{what} — concerne l'ordre de service n° {order.id} ({order.contractor.name}), "
        f"{status_words} : rien n'a été modifié, à lire par l'unité.",
        {**changes, "work_order_id": order.id, "work_order_status": str(order.status)},
        kind=EventKind.CONTRACTOR_REPLY,
    )
    order.needs_attention = True


def clear_attention(
    session: Session, order: WorkOrder, comment: str, actor: User, now: datetime
) -> WorkOrder:
    """A person read what the order was flagged for and says what was done: the flag is
    cleared and the comment written on the claim's timeline. The flag is cleared by one
    conditional UPDATE, so two people clearing it at once give one clearance, not two."""
    comment = comment.strip()
    if not comment:
        raise InvalidInput({"comment": ["Say what was done about this work order."]})
    cleared = session.execute(
        sa.update(WorkOrder)
        .where(WorkOrder.id == order.id, WorkOrder.needs_attention.is_(True))
        .values(needs_attention=False)
        .execution_options(synchronize_session=False)
    )
    if not rows_changed(cleared):
        raise Conflict(f"Work order {order.id} does not need attention.")
    set_committed_value(order, "needs_attention", False)
    timeline.add_event(
        session,
        order.claim,
        EventKind.WORK_ORDER,
        now,
        actor=actor,
        body=f"Ordre de service n° {order.id} ({order.contractor.name}) vu : {comment}",
        changes={"work_order_id": order.id, "needs_attention": [True, False]},
    )
    session.flush()
    return order


def record_appointment(
    work_order: WorkOrder, start: datetime, end: datetime | None, now: datetime
) -> None:
    """The visit planned for an open order, whoever planned it (its contractor by e-mail, or
    the unit with the tenant): the order is scheduled for it. A finished or cancelled order
    keeps what it had."""
    if lifecycle.is_final(work_order):
        return
    work_order.appointment_at = start
    work_order.appointment_end = end
    lifecycle.move(work_order, OrderEvent.SCHEDULE, now)


def cancel_open_orders(session: Session, claim: Claim, now: datetime, reason: str) -> int:
    """The claim left the contractors (taken back by a unit, cancelled): its open orders end,
    so nobody chases them."""
    return _end_open_orders(session, claim, now, OrderEvent.CANCEL, f"annulé : {reason}")


def supersede_open_orders(session: Session, claim: Claim, now: datetime, reason: str) -> int:
    """The claim went to another contract: its open orders are replaced by a new one."""
    return _end_open_orders(session, claim, now, OrderEvent.SUPERSEDE, f"remplacé : {reason}")


def _end_open_orders(
    session: Session, claim: Claim, now: datetime, event: OrderEvent, words: str
) -> int:
    ended = 0
    for order in session.execute(
        sa.select(WorkOrder).where(
            WorkOrder.claim_id == claim.id, WorkOrder.status.in_(OPEN_WORK_ORDER_STATUSES)
        )
    ).scalars():
        lifecycle.move(order, event, now)
        ended += 1
        record_on_claim(
            session,
            claim,
            now,
            f"Ordre de service n° {order.id} ({order.contractor.name}) {words}",
            {"work_order_id": order.id, "work_order_status": str(order.status)},
        )
    return ended


def open_work_order_for_claim(session: Session, claim_id: int) -> WorkOrder | None:
    """The claim's most recent work order still in progress, else its most recent one."""
    orders = list(
        session.execute(
            sa.select(WorkOrder).where(WorkOrder.claim_id == claim_id).order_by(WorkOrder.id.desc())
        ).scalars()
    )
    return next((o for o in orders if o.status in OPEN_WORK_ORDER_STATUSES), None) or (
        orders[0] if orders else None
    )


# --- contract deadlines ------------------------------------------------------------------------

_DEADLINE_WORDS = {"acknowledge": "de prise en charge", "complete": "d'intervention"}
# A reminder leaves when this share of the time to a deadline has gone by.
REMINDER_SHARE = 0.75
_WATCH_BATCH = 500


@dataclass(frozen=True)
class DeadlineReport:
    reminders: int = 0
    escalations: int = 0


def watch_work_orders(session: Session, now: datetime) -> DeadlineReport:
    """Remind contractors before the acknowledgement and completion deadlines, and tell the
    supervising unit once they are missed. Each message once per order and deadline (the
    outbox keys), so running it twice, or every minute, changes nothing.

    Only what is due and not yet alerted is read, in SQL (each alert sent is recorded in
    ``watch_alerts``), with the orders' claims and the units' addresses read once."""
    reminders = escalations = 0
    recipients = StaffRecipients(session)
    for deadline_name in ("acknowledge", "complete"):
        due_column = getattr(WorkOrder, f"{deadline_name}_due")
        pending = sa.and_(
            WorkOrder.status.in_(OPEN_WORK_ORDER_STATUSES),
            WorkOrder.created_at <= now,
            Claim.status.in_(OPEN_STATUSES),
        )
        if deadline_name == "acknowledge":
            pending = sa.and_(pending, WorkOrder.acknowledged_at.is_(None))

        kind = f"{Purpose.WORK_ORDER_REMINDER}:{deadline_name}"
        to_remind = sa.and_(
            pending,
            due_column > now,
            _reminder_point_passed(session, due_column, now),
            not_alerted(kind, WorkOrder.id, due_column),
        )
        for orders in _orders_batches(session, to_remind, _FOR_REMINDERS):
            due_orders = [
                (order, due)
                for order in orders
                for due in [getattr(order, f"{deadline_name}_due")]
                if order.created_at + (due - order.created_at) * REMINDER_SHARE <= now
            ]
            # Recorded first: an order another run has just reminded is left to that run.
            recorded = record_alerts(session, kind, [(o.id, due) for o, due in due_orders], now)
            reminders += _remind(
                session, [(o, due) for o, due in due_orders if o.id in recorded], deadline_name, now
            )

        kind = f"{Purpose.WORK_ORDER_ESCALATION}:{deadline_name}"
        to_escalate = sa.and_(
            pending, due_column <= now, not_alerted(kind, WorkOrder.id, due_column)
        )
        alerts: list[StaffAlert] = []
        for orders in _orders_batches(session, to_escalate, _FOR_ESCALATIONS):
            # An order whose unit has nobody to tell yet is escalated once somebody is.
            due_orders = [
                (order, getattr(order, f"{deadline_name}_due"))
                for order in orders
                if recipients.of_unit(order.claim.unit_id)
            ]
            recorded = record_alerts(session, kind, [(o.id, due) for o, due in due_orders], now)
            escalated = [(o, due) for o, due in due_orders if o.id in recorded]
            alerts += _escalation_alerts(escalated, deadline_name, recipients)
            _flag_escalated(session, [order for order, _ in escalated], deadline_name, now)
            escalations += len(escalated)
        messages = staff_alert_messages(
            Purpose.WORK_ORDER_ESCALATION, alerts, deadline=deadline_name
        )
        queue_messages(session, messages, now)
    return DeadlineReport(reminders, escalations)


_DateTimeColumn = sa.ColumnElement[datetime] | InstrumentedAttribute[datetime]


def _reminder_point_passed(
    session: Session, due: _DateTimeColumn, now: datetime
) -> sa.ColumnElement[bool]:
    """``created + (due - created) × REMINDER_SHARE <= now`` in seconds since the epoch, give
    or take a second (the caller checks each order exactly)."""
    seconds = epoch_seconds(session)
    point = seconds(WorkOrder.created_at) * (1 - REMINDER_SHARE) + seconds(due) * REMINDER_SHARE
    return point <= now.timestamp() + 1


# What a reminder to the contractor reads (the whole order e-mail), and what an escalation's
# digest line and timeline read (its single e-mail, rare in a busy run, loads the rest).
_FOR_REMINDERS = (
    joinedload(WorkOrder.claim).options(
        joinedload(Claim.category),
        joinedload(Claim.residence),
        joinedload(Claim.building),
        joinedload(Claim.dwelling),
        joinedload(Claim.equipment),
        joinedload(Claim.unit),
        joinedload(Claim.tenant).selectinload(Tenant.phones),
    ),
    joinedload(WorkOrder.contract),
    joinedload(WorkOrder.contractor),
)
_FOR_ESCALATIONS = (
    joinedload(WorkOrder.claim).options(
        joinedload(Claim.category), joinedload(Claim.building), joinedload(Claim.unit)
    ),
    joinedload(WorkOrder.contractor),
)


def _orders_batches(
    session: Session, condition: sa.ColumnElement[bool], loaded: tuple[Any, ...]
) -> Iterator[list[WorkOrder]]:
    """The orders meeting ``condition`` (which may name their claim), by id, with the
    relations ``loaded``; their ids first, in one query."""
    ids = sorted(
        session.execute(sa.select(WorkOrder.id).join(WorkOrder.claim).where(condition)).scalars()
    )
    for start in range(0, len(ids), _WATCH_BATCH):
        yield list(
            session.execute(
                sa.select(WorkOrder)
                .where(among_ids(session, WorkOrder.id, ids[start : start + _WATCH_BATCH]))
                .options(*loaded)
                .order_by(WorkOrder.id)
            )
            .unique()
            .scalars()
        )


def _remind(
    session: Session, orders: list[tuple[WorkOrder, datetime]], deadline_name: str, now: datetime
) -> int:
    """Remind each contractor of the deadline (its date ``due``), with a line on each claim's
    timeline; how many reminders left (none twice: the outbox keys)."""
    messages = {
        order.id: _order_email(
            order,
            Purpose.WORK_ORDER_REMINDER,
            key=f"work_order:{order.id}:reminder:{deadline_name}:{due.isoformat()}",
        )
        for order, due in orders
    }
    written = queue_messages(session, list(messages.values()), now)
    reminded = [order for order, _ in orders if messages[order.id].idempotency_key in written]
    timeline.add_events_to_claims(
        session,
        now,
        [
            (
                order.claim,
                _order_event(
                    f"Relance de {order.contractor.name} avant l'échéance "
                    f"{_DEADLINE_WORDS[deadline_name]}.",
                    {"work_order_id": order.id, "deadline": deadline_name},
                ),
            )
            for order in reminded
        ],
    )
    return len(reminded)


def _escalation_alerts(
    orders: list[tuple[WorkOrder, datetime]], deadline_name: str, recipients: StaffRecipients
) -> list[StaffAlert]:
    """Each order's missed deadline (its date ``due``), to its claim's unit."""
    alerts = []
    for order, due in orders:
        claim = order.claim
        line = DigestLine(
            claim.reference,
            claim.category.label("fr"),
            claim.building.short_address,
            due,
            detail=order.contractor.name,
        )
        alerts += [
            StaffAlert(
                recipient=address,
                key=f"work_order:{order.id}:escalation:{deadline_name}:{due.isoformat()}",
                claim_id=claim.id,
                line=line,
                email=functools.partial(_escalation_email, order, deadline_name),
                list_path=f"/unit/{claim.unit.code}",
            )
            for address in sorted(set(recipients.of_unit(claim.unit_id)))
        ]
    return alerts


def _escalation_email(order: WorkOrder, deadline_name: str) -> RenderedEmail:
    context = work_order_context(order, contractor_links=False) | {"deadline": deadline_name}
    return render_email(Purpose.WORK_ORDER_ESCALATION, "fr", **context)


def _flag_escalated(
    session: Session, orders: list[WorkOrder], deadline_name: str, now: datetime
) -> None:
    """Flag the orders for the unit's attention and write the missed deadline on each
    claim's timeline."""
    if not orders:
        return
    # One UPDATE for the batch rather than one per order at the next flush.
    session.execute(
        sa.update(WorkOrder)
        .where(among_ids(session, WorkOrder.id, [order.id for order in orders]))
        .values(needs_attention=True)
        .execution_options(synchronize_session=False)
    )
    events = []
    for order in orders:
        set_committed_value(order, "needs_attention", True)
        events.append(
            (
                order.claim,
                _order_event(
                    f"Échéance {_DEADLINE_WORDS[deadline_name]} dépassée par "
                    f"{order.contractor.name} : l'unité {order.claim.unit.name} est alertée.",
                    {"work_order_id": order.id, "deadline": deadline_name},
                ),
            )
        )
    timeline.add_events_to_claims(session, now, events)


def _order_event(body: str, changes: dict[str, object]) -> timeline.NewEvent:
    # What record_on_claim writes, for many claims at once.
    return timeline.NewEvent(EventKind.WORK_ORDER, body=body, changes=changes)
