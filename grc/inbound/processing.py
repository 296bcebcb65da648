"""Processing of a stored inbound e-mail: parse, recognise duplicates, match, read, apply.

Runs in the ``inbound`` worker (``workers.jobs.process_received_emails``) on an e-mail the
webhook stored as received. Matching, in order: the signed token of a work order's reply
address among the recipients; a claim reference in the subject; ``In-Reply-To`` /
``References`` naming a work-order e-mail we sent; a claim a person attached it to. A tenant
writing to the landlord's contact address is an intake; anything else goes to triage.

Only a confident reading from the work order's own contractor moves anything; the rest is
filed on the claim's timeline and put in front of a person, never guessed.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.sql.dml import ReturningInsert

from contractors.mail import ParsedEmail, SalvagedHeaders, UnreadableEmail, salvage_headers
from contractors.posts import parse_post
from contractors.reading import Reading, ReplyKind, read_reply
from grc.claims.models import Claim, EventKind
from grc.claims.references import references_in_text
from grc.clock import settings
from grc.contracts import lifecycle, updates, work_orders
from grc.contracts.lifecycle import OrderEvent
from grc.contracts.models import Contractor, WorkOrder
from grc.housing.models import Residence
from grc.inbound.models import (
    InboundAttachment,
    InboundEmail,
    InboundEmailKey,
    InboundStatus,
    MatchedBy,
)
from grc.messaging.models import OutboxMessage, Purpose
from grc.people.models import Tenant
from grc.text import storable


@dataclass(frozen=True)
class Match:
    how: MatchedBy
    claim: Claim
    work_order: WorkOrder | None


def process_inbound_email(session: Session, email_id: int, now: datetime) -> InboundStatus | None:
    """Process one stored e-mail (its attempt already counted by ``claim_received_emails``);
    repeated calls change nothing once it left ``received``."""
    inbound = session.get(InboundEmail, email_id, with_for_update=True)
    if inbound is None or inbound.status != InboundStatus.RECEIVED:
        return inbound.status if inbound is not None else None
    try:
        parsed = _storable_email(parse_post(inbound.content_type, inbound.raw_post))
    except UnreadableEmail as error:
        keep_what_can_be_read(session, inbound, salvage_headers(inbound.raw_post))
        return _finish(inbound, InboundStatus.UNREADABLE, now, error=str(error))
    if parsed.is_blank:
        keep_what_can_be_read(session, inbound, parsed)
        return _finish(inbound, InboundStatus.UNREADABLE, now, error="no readable text")

    inbound.message_id = (parsed.message_id or "")[:300] or None
    inbound.from_address = parsed.from_address[:254] or None
    inbound.subject = parsed.subject[:300]
    inbound.html = parsed.html
    with session.no_autoflush:  # the row is written once, at the end
        first = _claim_repeat_key(session, inbound, repeat_key(inbound, parsed))
    if not first:
        return _finish(inbound, InboundStatus.DUPLICATE, now)
    _keep_attachments(inbound, parsed)

    # Dates are read against the mail's own Date; the reader doubts one far from arrival.
    reading = read_reply(
        parsed.text,
        written_at=parsed.date or inbound.received_at,
        tz=settings().tz,
        headers={**parsed.auto_reply_headers, "from": parsed.from_address},
        subject=parsed.subject,
        received_at=inbound.received_at,
    )
    inbound.new_text = reading.new_text
    inbound.reply_kind = reading.kind
    inbound.reading = _reading_record(reading)

    with session.no_autoflush:
        match = _match(session, inbound, parsed)
    if match is None:
        if reading.kind == ReplyKind.AUTO_REPLY:
            return _finish(inbound, InboundStatus.FILED, now)
        contact = settings().contact_address
        if contact and contact in parsed.recipients and not _is_contractor(session, parsed):
            # Writing is an intake channel: a new request, its tenant found when possible.
            inbound.tenant_id = _tenant_by_address(session, parsed.from_address)
            return _finish(inbound, InboundStatus.INTAKE, now)
        return _finish(inbound, InboundStatus.TRIAGE, now)
    inbound.claim_id, inbound.matched_by = match.claim.id, match.how
    inbound.work_order = match.work_order
    return _finish(inbound, _apply(session, inbound, match, reading, parsed, now), now)


def keep_what_can_be_read(
    session: Session, inbound: InboundEmail, headers: ParsedEmail | SalvagedHeaders | None = None
) -> None:
    """An unreadable e-mail still shows who sent it, its subject and the work order its
    signed reply address names; that order is flagged for a person."""
    if headers is None:
        headers = salvage_headers(inbound.raw_post)
    inbound.from_address = headers.from_address[:254] or inbound.from_address
    inbound.subject = headers.subject[:300] or inbound.subject
    for address in headers.recipients:
        work_order_id = work_orders.work_order_id_from_address(address)
        order = session.get(WorkOrder, work_order_id) if work_order_id is not None else None
        if order is not None:
            inbound.work_order = order
            order.needs_attention = True
            return


def _finish(
    inbound: InboundEmail, status: InboundStatus, now: datetime, *, error: str | None = None
) -> InboundStatus:
    inbound.status = status
    inbound.processed_at = now
    inbound.next_attempt_at = None
    inbound.lease_expires_at = None
    inbound.error = storable(error)[:500] if error else None
    return status


def repeat_key(inbound: InboundEmail, parsed: ParsedEmail) -> str | None:
    """What makes two posts the same e-mail: its normalised Message-ID or, for a mail sent
    without one, its sender, date, subject and text together. A mail with neither a
    Message-ID nor a date has nothing that tells two sendings from one copy sent twice: it
    gets no key and is always processed."""
    if inbound.message_id:
        identity = f"message-id:{inbound.message_id}"
    elif parsed.date is not None:
        identity = "content:" + "\x1f".join(
            (parsed.from_address, parsed.date.isoformat(), parsed.subject, parsed.text)
        )
    else:
        return None
    # The migration that created the keys computes the Message-ID's the same way.
    return hashlib.sha256(identity.encode()).hexdigest()


def _claim_repeat_key(session: Session, inbound: InboundEmail, key: str | None) -> bool:
    """Take ``key`` for this e-mail, in the transaction that goes on to apply it; False when
    another e-mail holds it (a duplicate).

    One ``INSERT … ON CONFLICT DO NOTHING``: copies processed at the same moment wait on the
    key's unique index until the first one's transaction ends, so exactly one holds it (and
    if that one rolls back, the next takes it). An e-mail processed again holds its own key.
    """
    if key is None:
        return True
    holder = session.execute(
        _key_insert(session.get_bind().dialect.name), {"key": key, "email_id": inbound.id}
    ).scalar_one_or_none()
    if holder is None:  # the key was taken already: by whom?
        holder = session.execute(
            sa.select(InboundEmailKey.email_id).where(InboundEmailKey.key == key)
        ).scalar_one()
    return holder == inbound.id


@functools.cache
def _key_insert(dialect: str) -> ReturningInsert[Any]:
    table = cast("sa.Table", InboundEmailKey.__table__)  # a mapped class's Table
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return insert.on_conflict_do_nothing(index_elements=["key"]).returning(table.c.email_id)


def _storable_email(parsed: ParsedEmail) -> ParsedEmail:
    """The parsed e-mail with every text as a database keeps it (``grc.text.storable``): a
    NUL byte in a body, an id or a content type must not stop the mail."""

    def texts(values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(storable(value) for value in values)

    return replace(
        parsed,
        message_id=storable(parsed.message_id) if parsed.message_id else None,
        in_reply_to=texts(parsed.in_reply_to),
        references=texts(parsed.references),
        from_address=storable(parsed.from_address),
        from_name=storable(parsed.from_name),
        recipients=texts(parsed.recipients),
        subject=storable(parsed.subject),
        text=storable(parsed.text),
        html=storable(parsed.html) if parsed.html is not None else None,
        auto_reply_headers={
            storable(name): storable(value) for name, value in parsed.auto_reply_headers.items()
        },
        attachments=tuple(
            replace(
                attachment,
                filename=storable(attachment.filename),
                content_type=storable(attachment.content_type),
            )
            for attachment in parsed.attachments
        ),
    )


def _keep_attachments(inbound: InboundEmail, parsed: ParsedEmail) -> None:
    config = settings()
    for attachment in parsed.attachments:
        size = len(attachment.data)
        refused = None
        if attachment.content_type not in config.attachment_types:
            refused = f"type {attachment.content_type} not accepted"
        elif size > config.attachment_max_bytes:
            refused = f"{size} bytes, over the {config.attachment_max_bytes}-byte limit"
        inbound.attachments.append(
            InboundAttachment(
                filename=attachment.filename[:255],
                content_type=attachment.content_type[:100],
                size=size,
                data=None if refused else attachment.data,
                refused=refused,
            )
        )


def _reading_record(reading: Reading) -> dict[str, object]:
    appointment = reading.appointment
    return {
        "kind": str(reading.kind),
        "confident": reading.confident,
        "reason": str(reading.reason) if reading.reason else None,
        "appointment": appointment.start.isoformat() if appointment else None,
        "appointment_end": appointment.end.isoformat() if appointment and appointment.end else None,
        "all_day": appointment.all_day if appointment else False,
        "notes": list(reading.notes),
    }


# --- matching -------------------------------------------------------------------------------


def _match(session: Session, inbound: InboundEmail, parsed: ParsedEmail) -> Match | None:
    for address in parsed.recipients:
        work_order_id = work_orders.work_order_id_from_address(address)
        if work_order_id is not None:
            order = session.get(WorkOrder, work_order_id, options=_WORK_ORDER_LOADS)
            if order is not None:
                return Match(MatchedBy.TOKEN, order.claim, order)
    for reference in references_in_text(parsed.subject):
        claim = session.execute(
            sa.select(Claim).where(Claim.reference == reference)
        ).scalar_one_or_none()
        if claim is not None:
            order = work_orders.open_work_order_for_claim(session, claim.id)
            return Match(MatchedBy.SUBJECT, claim, order)
    order = _work_order_of_thread(session, (*parsed.in_reply_to, *parsed.references))
    if order is not None:
        return Match(MatchedBy.THREAD, order.claim, order)
    if inbound.claim_id is not None:  # attached by a person, then reprocessed
        claim = session.get(Claim, inbound.claim_id)
        if claim is not None:
            order = work_orders.open_work_order_for_claim(session, claim.id)
            return Match(MatchedBy.MANUAL, claim, order)
    return None


# Reading and applying a reply needs the claim's tenant, place, unit and category, and the
# order's contractor: one query instead of a lazy load each.
_WORK_ORDER_LOADS = [
    joinedload(WorkOrder.contractor),
    joinedload(WorkOrder.claim).options(
        joinedload(Claim.tenant).selectinload(Tenant.phones),
        joinedload(Claim.category),
        joinedload(Claim.unit),
        joinedload(Claim.contractor),
        joinedload(Claim.building),
        joinedload(Claim.dwelling),
        joinedload(Claim.residence).joinedload(Residence.agency),
    ),
]


def _work_order_of_thread(session: Session, message_ids: tuple[str, ...]) -> WorkOrder | None:
    """The work order whose e-mail a reply answers. SendGrid's Message-ID starts with the id
    its API returned (kept as the outbox row's provider id)."""
    candidates: set[str] = set()
    for message_id in message_ids:
        local = message_id.strip("<>").split("@", 1)[0]
        candidates.update({local, local.split(".", 1)[0]})
    if not candidates:
        return None
    sent = session.execute(
        sa.select(OutboxMessage)
        .where(
            OutboxMessage.provider_id.in_(sorted(candidates)),
            OutboxMessage.purpose.in_((Purpose.WORK_ORDER, Purpose.WORK_ORDER_REMINDER)),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if sent is None or sent.claim_id is None:
        return None
    key = sent.idempotency_key.split(":")
    if len(key) >= 2 and key[0] == "work_order" and key[1].isdigit():
        return session.get(WorkOrder, int(key[1]))
    return work_orders.open_work_order_for_claim(session, sent.claim_id)


def _is_contractor(session: Session, parsed: ParsedEmail) -> bool:
    if not parsed.from_address:
        return False
    found = session.execute(
        sa.select(Contractor.id)
        .where(sa.func.lower(Contractor.email) == parsed.from_address)
        .limit(1)
    ).first()
    return found is not None


def _tenant_by_address(session: Session, address: str) -> int | None:
    if not address:
        return None
    ids = list(
        session.execute(
            sa.select(Tenant.id).where(sa.func.lower(Tenant.email) == address.lower()).limit(2)
        ).scalars()
    )
    return ids[0] if len(ids) == 1 else None  # two tenants share it: a person decides


# --- applying -------------------------------------------------------------------------------


def _apply(
    session: Session,
    inbound: InboundEmail,
    match: Match,
    reading: Reading,
    parsed: ParsedEmail,
    now: datetime,
) -> InboundStatus:
    claim, order = match.claim, match.work_order
    summary = _timeline_text(reading, parsed)
    changes = {
        "inbound_email_id": inbound.id,
        "matched_by": str(match.how),
        **_reading_record(reading),
    }
    if order is not None:
        changes["work_order_id"] = order.id

    if reading.kind == ReplyKind.AUTO_REPLY:
        work_orders.record_on_claim(
            session,
            claim,
            now,
            f"Réponse automatique reçue : {summary}",
            changes,
            kind=EventKind.CONTRACTOR_REPLY,
        )
        return InboundStatus.FILED
    tenant_email = (claim.tenant.email or "").lower() if claim.tenant else ""
    if tenant_email and parsed.from_address == tenant_email:
        # The tenant writing about their claim: their words go on the timeline, for the unit.
        work_orders.record_on_claim(
            session,
            claim,
            now,
            f"Message du locataire par e-mail : {summary}",
            changes,
            kind=EventKind.COMMENT,
        )
        return InboundStatus.FILED
    if order is None or parsed.from_address != order.contractor.email.lower():
        # Not the contractor's own address: kept and shown, never applied.
        work_orders.record_on_claim(
            session,
            claim,
            now,
            f"Message de {parsed.from_address or 'expéditeur inconnu'} mis de côté pour "
            f"vérification (ce n'est pas l'adresse du prestataire) : {summary}",
            changes,
            kind=EventKind.CONTRACTOR_REPLY,
        )
        return InboundStatus.HELD

    if lifecycle.is_final(order):
        # Cancelled, superseded or done: whatever it says, nothing moves; a person reads it.
        work_orders.file_on_finished_order(
            session, order, now, f"Réponse du prestataire : {summary}", changes
        )
        return InboundStatus.REVIEW

    order.last_reply_at = now
    applicable = reading.confident and reading.kind in (
        ReplyKind.ACKNOWLEDGED,
        ReplyKind.SCHEDULED,
        ReplyKind.DONE,
    )
    if reading.kind == ReplyKind.SCHEDULED and (
        reading.appointment is None or reading.appointment.all_day
    ):
        # A day without a time is not something to tell the tenant: a person confirms it.
        applicable = False
    if applicable:
        update = updates.ContractorUpdate(
            kind=str(reading.kind),
            text=reading.new_text,
            appointment_at=reading.appointment.start if reading.appointment else None,
            appointment_end=reading.appointment.end if reading.appointment else None,
        )
        work_orders.record_on_claim(
            session,
            claim,
            now,
            f"Réponse du prestataire : {summary}",
            changes,
            kind=EventKind.CONTRACTOR_REPLY,
        )
        outcome = updates.apply_contractor_update(session, order, update, now)
        if outcome == updates.UpdateOutcome.APPLIED:
            return InboundStatus.APPLIED
        # The claim can no longer move (closed, resolved) or the visit is already past: a
        # person reads it.
        order.needs_attention = True
        return InboundStatus.REVIEW

    if reading.kind == ReplyKind.CANNOT_INTERVENE and reading.confident:
        lifecycle.move(order, OrderEvent.CANNOT_INTERVENE, now)
    order.needs_attention = True
    work_orders.record_on_claim(
        session,
        claim,
        now,
        f"Réponse du prestataire à lire : {summary}",
        changes,
        kind=EventKind.CONTRACTOR_REPLY,
    )
    return InboundStatus.REVIEW


def _timeline_text(reading: Reading, parsed: ParsedEmail) -> str:
    text = reading.new_text.strip() or parsed.subject
    return text[:2000]
