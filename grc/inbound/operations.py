"""Operations on received e-mail: store a post, send one back through processing, register
the claim a tenant's e-mail asks for, the processing queue (claim a batch, record a failure,
what the sweeper hands over) and the retention of originals. They flush; the caller commits.
Processing itself (matching, reading, applying) is ``grc.inbound.processing``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from grc import worktable
from grc.claims import timeline
from grc.claims.models import MAX_DESCRIPTION, Claim, EventKind, PhotoSource
from grc.claims.operations import NewClaim, create_claim
from grc.claims.photos import REFUSALS as PHOTO_REFUSALS
from grc.claims.photos import add_photo
from grc.claims.queries import restrict_to_visible_claims
from grc.clock import settings
from grc.contracts.models import WorkOrder
from grc.contracts.updates import ContractorUpdate, UpdateOutcome, apply_contractor_update
from grc.db import StrEnum, rows_changed
from grc.errors import Conflict, InvalidInput, NotFound
from grc.housing.models import Dwelling
from grc.inbound.models import InboundAttachment, InboundEmail, InboundStatus, MatchedBy
from grc.people.models import Lease, User
from grc.text import storable

log = logging.getLogger(__name__)


def store_inbound(session: Session, content_type: str, raw_post: bytes, now: datetime) -> int:
    email = InboundEmail(
        content_type=storable(content_type)[:200],
        raw_post=raw_post,
        status=InboundStatus.RECEIVED,
        received_at=now,
    )
    session.add(email)
    session.flush()
    process_after_commit(session, email.id)
    return email.id


def process_after_commit(session: Session, email_id: int) -> None:
    worktable.after_commit(session, worktable.Work.INBOUND, email_id)


def send_back(session: Session, inbound: InboundEmail, claim_id: int | None) -> None:
    """Process the e-mail again from its stored post, as if it had just arrived (after a fix,
    a late token, or a person attaching it to ``claim_id``)."""
    if inbound.original_deleted_at is not None:
        deleted_on = inbound.original_deleted_at.astimezone(settings().tz).date()
        raise Conflict(
            f"The e-mail as received was deleted on {deleted_on.isoformat()} under the "
            "retention rule: it can no longer be processed again."
        )
    inbound.status = InboundStatus.RECEIVED
    inbound.claim_id = claim_id
    inbound.attempts = 0
    inbound.next_attempt_at = None
    inbound.lease_expires_at = None
    inbound.error = None
    # Processing starts afresh from the stored post: forget what the last pass kept.
    inbound.attachments.clear()
    session.flush()
    process_after_commit(session, inbound.id)


INBOUND_SWEEP_GRACE = timedelta(minutes=5)
# After this many attempts that failed or never finished, an e-mail is set aside as
# unreadable, for a person (it keeps its raw post and can be reprocessed once fixed).
MAX_ATTEMPTS = 3
# Wait before the second and third attempts after a failure.
RETRY_DELAYS = (timedelta(seconds=10), timedelta(minutes=1))
# A claimed e-mail whose worker went silent (killed, host lost) is tried again after this.
PROCESSING_LEASE = timedelta(minutes=5)


def _due(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        InboundEmail.status == InboundStatus.RECEIVED,
        sa.or_(InboundEmail.next_attempt_at.is_(None), InboundEmail.next_attempt_at <= now),
        InboundEmail.attempts < MAX_ATTEMPTS,
    )


def claim_received_emails(session: Session, now: datetime, limit: int) -> list[int]:
    """Take up to ``limit`` stored e-mails for one processing attempt each, oldest first.

    One ``UPDATE … RETURNING`` counts the attempt and leases the rows for
    ``PROCESSING_LEASE``; on PostgreSQL they are picked with ``FOR UPDATE SKIP LOCKED``, so
    jobs running side by side take disjoint batches. The caller commits the claim, then
    processes each e-mail in a transaction of its own. A leased e-mail stays ``received``:
    its next attempt may start when the lease ends, which keeps other jobs off it meanwhile.
    """
    lease_end = now + PROCESSING_LEASE
    claimed = worktable.claim_batch(
        session,
        InboundEmail,
        _due(now),
        limit,
        {
            "attempts": InboundEmail.attempts + 1,
            "lease_expires_at": lease_end,
            "next_attempt_at": lease_end,
        },
        InboundEmail.id,
    )
    return sorted(claimed)


def record_failure(session: Session, email_id: int, error: str, now: datetime) -> bool:
    """An attempt crashed: tried again after a wait, or set aside as unreadable once its
    attempts are used up (True)."""
    inbound = session.get(InboundEmail, email_id, with_for_update=True)
    if inbound is None or inbound.status != InboundStatus.RECEIVED:
        return False
    inbound.error = storable(error)[:500]
    inbound.lease_expires_at = None
    if inbound.attempts >= MAX_ATTEMPTS:
        inbound.status = InboundStatus.UNREADABLE
        inbound.processed_at = now
        inbound.next_attempt_at = None
        return True
    inbound.next_attempt_at = now + worktable.backoff(RETRY_DELAYS, inbound.attempts)
    return False


def emails_to_hand_over(session: Session, now: datetime, after_seconds: int) -> list[int]:
    """Stored e-mails due for processing that no job may be about to take (``_forgotten``),
    not handed over for ``after_seconds``: marked handed over now."""
    return worktable.hand_over_forgotten(session, WORK_TABLE, now, timedelta(seconds=after_seconds))


def _forgotten(now: datetime, after: timedelta) -> sa.ColumnElement[bool]:
    """Due, and in no queue: a retry whose wait is over, a lease that ran out, or a first
    attempt whose hand-over was lost (Redis was down, the process died after the commit)."""
    # A first attempt is left alone well past the sweep delay: a backlog in the queue is not
    # a lost hand-over.
    grace = max(after, INBOUND_SWEEP_GRACE)
    return sa.and_(
        _due(now),
        sa.or_(InboundEmail.next_attempt_at.is_not(None), InboundEmail.received_at <= now - grace),
    )


def set_aside_abandoned(session: Session, now: datetime) -> int:
    """E-mails whose every attempt was interrupted (the worker killed each time, a job
    timeout) and whose last lease is over: unreadable, for a person, instead of being tried
    for ever."""
    expired = worktable.lease_expired(WORK_TABLE, now)
    return len(_set_aside_abandoned(session, expired, now))


def _set_aside_abandoned(
    session: Session, expired: sa.ColumnElement[bool], now: datetime
) -> list[int]:
    return list(
        session.scalars(
            sa.update(InboundEmail)
            .where(expired, InboundEmail.attempts >= MAX_ATTEMPTS)
            .values(
                status=InboundStatus.UNREADABLE,
                processed_at=now,
                next_attempt_at=None,
                lease_expires_at=None,
                error=f"processing was interrupted {MAX_ATTEMPTS} times",
            )
            .returning(InboundEmail.id)
            .execution_options(synchronize_session="fetch")
        ).all()
    )


def _release(session: Session, expired: sa.ColumnElement[bool], now: datetime) -> list[int]:
    """The ``expired`` e-mails (their job went silent): set aside once every attempt was
    interrupted, otherwise due again (their next attempt was allowed from the lease's end)."""
    abandoned = _set_aside_abandoned(session, expired, now)
    again = session.scalars(
        sa.update(InboundEmail)
        .where(expired)
        .values(lease_expires_at=None)
        .returning(InboundEmail.id)
        .execution_options(synchronize_session="fetch")
    ).all()
    return [*abandoned, *again]


# Received e-mail as the sweeper sees it (``grc.worktable.sweep``).
WORK_TABLE = worktable.WorkTable(
    work=worktable.Work.INBOUND,
    model=InboundEmail,
    held=InboundEmail.status == InboundStatus.RECEIVED,
    forgotten=_forgotten,
    release=_release,
)


# Processing is done with these: their received post is only a copy of what was kept.
# The others still need theirs: waiting for a worker (received), or for a person who sends
# them through processing again (unreadable, triage, intake).
ORIGINAL_NO_LONGER_NEEDED = (
    InboundStatus.APPLIED,
    InboundStatus.FILED,
    InboundStatus.REVIEW,
    InboundStatus.HELD,
    InboundStatus.DUPLICATE,
)


def delete_old_originals(session: Session, now: datetime, keep_days: int, limit: int) -> int:
    """Empty the received post of up to ``limit`` e-mails that processing finished with more
    than ``keep_days`` ago, oldest first. What was kept from each (sender, subject, the new
    text, the sanitised HTML, the attachments) stays. Returns how many were emptied; a
    backlog is worked off over several runs, each one short transaction."""
    old = (
        sa.select(InboundEmail.id)
        .where(
            InboundEmail.status.in_(ORIGINAL_NO_LONGER_NEEDED),
            InboundEmail.processed_at <= now - timedelta(days=keep_days),
            InboundEmail.original_deleted_at.is_(None),
        )
        .order_by(InboundEmail.id)
        .limit(limit)
    )
    deleted = session.execute(
        sa.update(InboundEmail)
        .where(InboundEmail.id.in_(old.scalar_subquery()))
        .values(raw_post=b"", original_deleted_at=now)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(deleted)


def register_intake(
    session: Session, inbound: InboundEmail, command: NewClaim, actor: User, now: datetime
) -> Claim:
    """Register the claim a tenant's e-mail asks for, and file the e-mail on it.

    The e-mail's kept images become the claim's photos (source ``email``). One that
    ``add_photo`` refuses (a damaged file, a format it cannot read, one over the ten photos a
    claim takes) does not stop the registration: it is skipped, and named in one internal
    timeline event so that the agent knows to look at the e-mail.
    """
    if inbound.status != InboundStatus.INTAKE:
        raise Conflict(f"The e-mail is {inbound.status}: only intake e-mails are registered.")
    description = command.description or (inbound.new_text or "").strip() or inbound.subject
    command = replace(
        command,
        description=(description or "")[:MAX_DESCRIPTION],
        tenant_id=command.tenant_id or inbound.tenant_id,
    )
    claim = create_claim(session, command, actor, now)
    inbound.claim_id = claim.id
    inbound.matched_by = MatchedBy.INTAKE
    inbound.status = InboundStatus.APPLIED
    _copy_photos(session, inbound, claim, actor, now)
    session.flush()
    return claim


def _copy_photos(
    session: Session, inbound: InboundEmail, claim: Claim, actor: User, now: datetime
) -> None:
    skipped = []
    for attachment in inbound.attachments:
        if attachment.data is None or not attachment.content_type.startswith("image/"):
            continue
        try:
            # A refusal comes before anything is written: nothing to undo.
            add_photo(
                session,
                claim,
                attachment.filename,
                attachment.data,
                actor,
                now,
                source=PhotoSource.EMAIL,
            )
        except PHOTO_REFUSALS:
            skipped.append(attachment)
    if skipped:
        timeline.add_event(
            session,
            claim,
            EventKind.COMMENT,
            now,
            actor=actor,
            body=(
                "Pièce jointe de l'e-mail non reprise comme photo : "
                if len(skipped) == 1
                else "Pièces jointes de l'e-mail non reprises comme photos : "
            )
            + ", ".join(a.filename for a in skipped),
            changes={"inbound_attachment_ids": [a.id for a in skipped]},
        )


# --- what a person does with mail ------------------------------------------------------------

# Mail a person must handle, by what they do with it.
TO_FILE = (InboundStatus.TRIAGE,)  # matched nothing: file it on a claim
TO_REGISTER = (InboundStatus.INTAKE,)  # a tenant wrote to the contact address
TO_READ = (InboundStatus.REVIEW, InboundStatus.HELD)  # a contractor's reply not applied
# What can be filed on a claim by hand: mail nothing matched, or a tenant's e-mail that is
# about a claim already registered.
ATTACHABLE = (InboundStatus.TRIAGE, InboundStatus.INTAKE)


def visible_inbound(user: User) -> sa.Select[InboundEmail]:
    """The e-mails of the claims ``user`` may see; those of no claim (triage, intake) only
    for roles that see every claim."""
    return restrict_to_visible_claims(sa.select(InboundEmail), InboundEmail.claim_id, user)


def inbound_for(session: Session, user: User, email_id: int) -> InboundEmail:
    inbound = session.execute(
        visible_inbound(user).where(InboundEmail.id == email_id)
    ).scalar_one_or_none()
    if inbound is None:
        raise NotFound(f"No inbound e-mail with id {email_id}.")
    return inbound


def attachment_for(
    session: Session, user: User, email_id: int, attachment_id: int
) -> InboundAttachment:
    """A kept attachment of an e-mail ``user`` may see (a refused one has no bytes: 404)."""
    inbound = inbound_for(session, user, email_id)
    attachment = session.execute(
        sa.select(InboundAttachment).where(
            InboundAttachment.id == attachment_id,
            InboundAttachment.email_id == inbound.id,
            InboundAttachment.data.is_not(None),
        )
    ).scalar_one_or_none()
    if attachment is None:
        raise NotFound(f"No attachment {attachment_id} on e-mail {email_id}.")
    return attachment


def mail_to_handle(
    session: Session, user: User, statuses: tuple[InboundStatus, ...], limit: int
) -> list[InboundEmail]:
    """The oldest first (the longest waiting), with their attachments' descriptions, work
    order, contractor and claim loaded (no query per e-mail)."""
    return list(
        session.execute(
            visible_inbound(user)
            .where(InboundEmail.status.in_(statuses))
            .options(
                selectinload(InboundEmail.attachments).load_only(
                    InboundAttachment.id,
                    InboundAttachment.filename,
                    InboundAttachment.content_type,
                    InboundAttachment.size,
                    InboundAttachment.refused,
                ),
                joinedload(InboundEmail.work_order).joinedload(WorkOrder.contractor),
                joinedload(InboundEmail.claim),
                joinedload(InboundEmail.tenant),
            )
            .order_by(InboundEmail.received_at, InboundEmail.id)
            .limit(limit)
        )
        .unique()
        .scalars()
    )


def mail_counts(session: Session, user: User) -> dict[InboundStatus, int]:
    """How many e-mails wait in each status a person handles (one query)."""
    waiting = (
        visible_inbound(user)
        .where(InboundEmail.status.in_((*TO_FILE, *TO_REGISTER, *TO_READ)))
        .with_only_columns(InboundEmail.status)
        .subquery()
    )
    rows = session.execute(
        sa.select(waiting.c.status, sa.func.count()).group_by(waiting.c.status)
    ).all()
    return {status: count for status, count in rows}  # noqa: C416 (typed, unlike dict(rows))


def attach_to_claim(session: Session, inbound: InboundEmail, claim: Claim) -> None:
    """File an e-mail nothing matched (or a tenant's e-mail about a claim already registered)
    on ``claim``: it goes through processing again, matched to that claim, and is applied as
    a reply to its work order only if it comes from that contractor."""
    if inbound.status not in ATTACHABLE:
        raise Conflict(f"The e-mail is {inbound.status}: only triage e-mails are attached.")
    send_back(session, inbound, claim.id)


def reading_as_update(inbound: InboundEmail) -> ContractorUpdate | None:
    """What the stored reading says, as an update that could be applied: taken on, a visit
    at a time, work done; None when it says nothing of the kind (a question, unclear, a day
    without a time)."""
    reading = inbound.reading or {}
    kind = reading.get("kind")
    if kind not in ("acknowledged", "scheduled", "done"):
        return None
    appointment = reading.get("appointment")
    if kind == "scheduled" and (not appointment or reading.get("all_day")):
        return None
    end = reading.get("appointment_end")
    return ContractorUpdate(
        kind=kind,
        text=inbound.new_text or "",
        appointment_at=datetime.fromisoformat(appointment) if appointment else None,
        appointment_end=datetime.fromisoformat(end) if end else None,
    )


def reading_visit(inbound: InboundEmail) -> datetime | None:
    """The visit the reading found in the reply, if any."""
    appointment = (inbound.reading or {}).get("appointment")
    return datetime.fromisoformat(appointment) if appointment else None


class ReplyDecision(StrEnum):
    """What a person decides about a contractor's reply that was not applied."""

    CONFIRM = "confirm"  # apply what was read
    APPLY = "apply"  # apply another reading: taken on, visit planned (at a time), work done
    FILE = "file"  # file it without change


def decide_contractor_reply(
    session: Session,
    inbound: InboundEmail,
    decision: ReplyDecision,
    actor: User,
    now: datetime,
    *,
    kind: str | None = None,
    appointment_at: datetime | None = None,
    appointment_end: datetime | None = None,
) -> InboundStatus:
    """The person's decision as an update (or none), settled by ``settle_contractor_reply``:
    the API and the page decide through here."""
    update: ContractorUpdate | None = None
    if decision == ReplyDecision.CONFIRM:
        update = reading_as_update(inbound)
        if update is None:
            raise Conflict(
                "Nothing that moves a work order was read: apply another reading, or file it."
            )
    elif decision == ReplyDecision.APPLY:
        if kind not in _UPDATE_WORDS:
            raise InvalidInput({"kind": [f"One of: {', '.join(_UPDATE_WORDS)}."]})
        if kind == "scheduled" and appointment_at is None:
            raise InvalidInput({"appointment_at": ["Give the visit's day and time."]})
        scheduled = kind == "scheduled"
        update = ContractorUpdate(
            kind=kind,
            text=inbound.new_text or "",
            appointment_at=appointment_at if scheduled else None,
            appointment_end=appointment_end if scheduled else None,
        )
    return settle_contractor_reply(session, inbound, update, actor, now)


def settle_contractor_reply(
    session: Session,
    inbound: InboundEmail,
    update: ContractorUpdate | None,
    actor: User,
    now: datetime,
) -> InboundStatus:
    """A person read a contractor's reply that was not applied (``review``, ``held``) and
    decides: apply ``update`` (what was read, confirmed, or another reading) to its work
    order and claim, or file it without change (``update`` None). The work order's attention
    flag is cleared and the decision is written on the claim's timeline under their name.

    The e-mail leaves ``review``/``held`` by one conditional UPDATE: two people deciding at
    once give one decision; the other gets a 409.
    """
    if inbound.status not in TO_READ or inbound.claim_id is None:
        raise Conflict(f"The e-mail is {inbound.status}: there is no reply to decide on.")
    order = inbound.work_order
    if update is not None and order is None:
        raise Conflict("The e-mail is about no work order: it can only be filed.")
    new_status = InboundStatus.FILED if update is None else InboundStatus.APPLIED
    # Taken first, so that a second person deciding at once changes nothing; a refusal
    # below rolls the whole request back, this included.
    decided = session.execute(
        sa.update(InboundEmail)
        .where(InboundEmail.id == inbound.id, InboundEmail.status.in_(TO_READ))
        .values(status=new_status, processed_at=now)
        .execution_options(synchronize_session=False)
    )
    if not rows_changed(decided):
        raise Conflict("Someone else has just decided on this e-mail.")
    set_committed_value(inbound, "status", new_status)
    set_committed_value(inbound, "processed_at", now)
    if update is not None and order is not None:
        outcome = apply_contractor_update(session, order, update, now)
        if outcome == UpdateOutcome.VISIT_PAST:
            raise InvalidInput({"appointment_at": ["Give a visit time that is not past."]})
        if outcome != UpdateOutcome.APPLIED:
            raise Conflict(f"The reply cannot be applied: {outcome}.")
    if order is not None and order.needs_attention:
        order.needs_attention = False
    claim = session.get(Claim, inbound.claim_id)
    assert claim is not None  # noqa: S101 (the e-mail's claim: a foreign key)
    timeline.add_event(
        session,
        claim,
        EventKind.CONTRACTOR_REPLY,
        now,
        actor=actor,
        body=_decision_words(update, inbound),
        changes={
            "inbound_email_id": inbound.id,
            "decision": update.kind if update is not None else "filed",
            **({"work_order_id": order.id} if order is not None else {}),
            **({"needs_attention": [True, False]} if order is not None else {}),
        },
    )
    session.flush()
    return new_status


_UPDATE_WORDS = {
    "acknowledged": "prise en charge",
    "scheduled": "intervention prévue",
    "done": "travaux terminés",
}


def _decision_words(update: ContractorUpdate | None, inbound: InboundEmail) -> str:
    if update is None:
        return "E-mail du prestataire lu et classé sans changement."
    confirmed = reading_as_update(inbound) == update
    what = _UPDATE_WORDS[update.kind]
    if confirmed:
        return f"Lecture de l'e-mail du prestataire confirmée : {what}."
    return f"Lecture de l'e-mail du prestataire corrigée : {what}."


def sender_dwellings(session: Session, inbound: InboundEmail, today: date) -> list[Dwelling]:
    """The dwellings the tenant who wrote holds a current lease on (to register their claim
    there); none when the sender is not known."""
    if inbound.tenant_id is None:
        return []
    return list(
        session.execute(
            sa.select(Dwelling)
            .join(Lease, Lease.dwelling_id == Dwelling.id)
            .where(
                Lease.tenant_id == inbound.tenant_id,
                Lease.start_date <= today,
                sa.or_(Lease.end_date.is_(None), Lease.end_date >= today),
            )
            .order_by(Dwelling.code)
        ).scalars()
    )
