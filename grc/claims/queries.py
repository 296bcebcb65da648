"""Read side of claims, always scoped to who is asking."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload, load_only, selectinload

from grc.claims import catalogue_cache
from grc.claims.models import (
    OPEN_STATUSES,
    Category,
    Claim,
    ClaimCaller,
    ClaimEvent,
    ClaimStatus,
    LocationKind,
    TreatmentUnit,
)
from grc.claims.references import typed_reference
from grc.contracts.models import WorkOrder
from grc.errors import InvalidInput, NotFound
from grc.housing.models import Agency, Building, Dwelling, Equipment, Residence
from grc.inbound.models import InboundAttachment, InboundEmail
from grc.messaging.models import OutboxMessage
from grc.people.models import Role, Tenant, User
from grc.surveys.models import Survey
from grc.text import search_key

# What a statement selects (SQLAlchemy 2.1 types a select of one entity as Select[Entity]).
T = TypeVar("T")


def _seen_by_unit(user: User) -> sa.ColumnElement[bool] | None:
    """A unit user sees their unit's queue; other roles see every claim (None)."""
    return Claim.unit_id == user.unit_id if user.role == Role.UNIT else None


def visible_claims(user: User) -> sa.Select[Claim]:
    """Claims ``user`` may see."""
    stmt = sa.select(Claim)
    condition = _seen_by_unit(user)
    return stmt if condition is None else stmt.where(condition)


def restrict_to_visible_claims(
    stmt: sa.Select[T],
    claim_id: sa.ColumnElement[int]
    | InstrumentedAttribute[int | None]
    | InstrumentedAttribute[int],
    user: User,
) -> sa.Select[T]:
    """Rows about a claim (``claim_id``) ``user`` may see, as ``visible_claims`` decides."""
    condition = _seen_by_unit(user)
    if condition is None:
        return stmt
    return stmt.join(Claim, Claim.id == claim_id).where(condition)


def get_claim_for(
    session: Session,
    user: User,
    claim_id: int,
    *,
    with_events: bool = False,
    for_update: bool = False,
) -> Claim:
    stmt = (
        visible_claims(user)
        .where(Claim.id == claim_id)
        .options(
            joinedload(Claim.category),
            joinedload(Claim.unit),
            joinedload(Claim.tenant),
            joinedload(Claim.contractor),
            joinedload(Claim.contract),
        )
    )
    if with_events:
        stmt = stmt.options(selectinload(Claim.events))
    if for_update:
        stmt = stmt.with_for_update(of=Claim)
    claim = session.execute(stmt).unique().scalar_one_or_none()
    if claim is None:
        raise NotFound(f"No claim with id {claim_id}.")
    return claim


def get_claim_by_reference_for(
    session: Session, user: User, reference: str, *, for_update: bool = False
) -> Claim:
    """The claim of that reference (as typed: ``r2026123`` too) if ``user`` may see it."""
    stored = typed_reference(reference)
    stmt = visible_claims(user).where(Claim.reference == stored)
    if for_update:
        stmt = stmt.with_for_update(of=Claim)
    claim = session.execute(stmt).scalar_one_or_none() if stored else None
    if claim is None:
        raise NotFound(f"No claim {reference}.")
    return claim


@dataclass(frozen=True)
class ClaimFilters:
    status: list[ClaimStatus] | None = None
    unit_id: int | None = None
    category: str | None = None
    agency_id: int | None = None
    tenant_id: int | None = None
    overdue: bool | None = None
    q: str | None = None
    residence_id: int | None = None


def list_claims(
    session: Session, user: User, filters: ClaimFilters, now: datetime
) -> sa.Select[Claim]:
    stmt = visible_claims(user)
    if filters.status:
        stmt = stmt.where(Claim.status.in_(filters.status))
    if filters.unit_id is not None:
        stmt = stmt.where(Claim.unit_id == filters.unit_id)
    if filters.agency_id is not None:
        stmt = stmt.where(Claim.agency_id == filters.agency_id)
    if filters.tenant_id is not None:
        stmt = stmt.where(Claim.tenant_id == filters.tenant_id)
    if filters.residence_id is not None:
        stmt = stmt.where(Claim.residence_id == filters.residence_id)
    if filters.category:
        # A domain code (PLB) selects all its categories.
        code = filters.category.strip().upper()
        category_ids = sa.select(Category.id).where(
            sa.or_(
                Category.code == code,
                Category.parent_id.in_(sa.select(Category.id).where(Category.code == code)),
            )
        )
        stmt = stmt.where(Claim.category_id.in_(category_ids))
    if filters.overdue is not None:
        late = Claim.overdue_condition(now)
        stmt = stmt.where(late if filters.overdue else sa.not_(late))
    if filters.q:
        stmt = stmt.where(_free_text(filters.q))
    return stmt.order_by(Claim.created_at.desc(), Claim.id.desc())


def _free_text(q: str) -> sa.ColumnElement[bool]:
    text = q.strip()
    key = search_key(text)
    conditions = [
        Claim.reference == text.upper(),
        Claim.description.ilike(f"%{_escape(text)}%", escape="\\"),
    ]
    if key:
        conditions.append(
            Claim.tenant_id.in_(
                sa.select(Tenant.id).where(
                    Tenant.search_name.like(f"%{_escape(key)}%", escape="\\")
                )
            )
        )
    return sa.or_(*conditions)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


SIMILAR_LIMIT = 10


@dataclass(frozen=True)
class SimilarClaimsQuery:
    """Where a new claim would be and what about, as the agent has it before saving."""

    equipment_id: int | None = None
    building_id: int | None = None
    dwelling_id: int | None = None
    category_id: int | None = None


def similar_open_claims(
    session: Session, user: User, query: SimilarClaimsQuery, limit: int = SIMILAR_LIMIT
) -> list[Claim]:
    """The open claims that may be the same breakdown as a claim about to be saved, most
    recent first, at most ``limit``, among those ``user`` may see: those on the same
    equipment, and those of the same category in the same building (in the same dwelling,
    for a category about a dwelling: a neighbour's leak is another leak).

    Each way of matching is its own indexed query, newest first and cut at ``limit`` (on the
    equipment; on building, category and date; on the dwelling): each reads only the claims
    of its equipment, of its building and category, or of its dwelling, however many claims
    there are, where one query with OR leaves the planner free to walk all the newest
    claims."""
    building_id = _building_of(session, query)
    matches = []
    if query.equipment_id is not None:
        matches.append(Claim.equipment_id == query.equipment_id)
    if query.category_id is not None:
        category = _claim_category(session, query.category_id)
        if category.location_kind == LocationKind.DWELLING and query.dwelling_id is not None:
            matches.append(
                sa.and_(Claim.dwelling_id == query.dwelling_id, Claim.category_id == category.id)
            )
        else:
            matches.append(
                sa.and_(Claim.building_id == building_id, Claim.category_id == category.id)
            )
    if not matches:
        raise InvalidInput(
            {"category_id": ["Give the category (or the equipment) the new claim is about."]}
        )
    newest = (Claim.created_at.desc(), Claim.id.desc())
    # Each part is a subquery: SQLite takes no ORDER BY or LIMIT on a member of a UNION.
    parts = [
        visible_claims(user)
        .with_only_columns(Claim.id)
        .where(match, Claim.status.in_(OPEN_STATUSES))
        .order_by(*newest)
        .limit(limit)
        .subquery()
        for match in matches
    ]
    candidates = sa.union(*(sa.select(part.c.id) for part in parts)).subquery()
    stmt = (
        sa.select(Claim)
        .where(Claim.id.in_(sa.select(candidates.c.id)))
        .options(
            joinedload(Claim.category),
            joinedload(Claim.unit),
            joinedload(Claim.contractor),
            joinedload(Claim.contract),
        )
        .order_by(*newest)
        .limit(limit)
    )
    return list(session.execute(stmt).unique().scalars())


def _building_of(session: Session, query: SimilarClaimsQuery) -> int:
    """The building the new claim is in, from the most precise place given; a place that
    does not exist, or in another building than the one given, is named."""
    found: list[tuple[str, int]] = []
    for field, model, place_id in (
        ("dwelling_id", Dwelling, query.dwelling_id),
        ("equipment_id", Equipment, query.equipment_id),
    ):
        if place_id is None:
            continue
        building_id = session.execute(
            sa.select(model.building_id).where(model.id == place_id)
        ).scalar_one_or_none()
        if building_id is None:
            raise InvalidInput({field: [f"No {field.removesuffix('_id')} with id {place_id}."]})
        found.append((field, building_id))
    if query.building_id is not None:
        if session.get(Building, query.building_id) is None:
            raise InvalidInput({"building_id": [f"No building with id {query.building_id}."]})
        found.append(("building_id", query.building_id))
    if not found:
        raise InvalidInput({"location": ["Give one of dwelling_id, building_id, equipment_id."]})
    first_field, building_id = found[0]
    for field, other in found[1:]:
        if other != building_id:
            raise InvalidInput({field: [f"Not in the building of {first_field}."]})
    return building_id


def _claim_category(session: Session, category_id: int) -> catalogue_cache.CategoryValue:
    try:
        category = catalogue_cache.catalogue(session).category_by_id(category_id)
    except KeyError:
        raise InvalidInput({"category_id": [f"No category with id {category_id}."]}) from None
    if category.location_kind is None:
        raise InvalidInput(
            {"category_id": [f"'{category.code}' is a domain; pick one of its categories."]}
        )
    return category


# How a claim is a tenant's: theirs (they are its tenant), or one they called about.
TENANT = "tenant"
CALLER = "caller"


def tenant_claims(user: User, tenant_id: int, newest: int | None = None) -> sa.Select[Claim, str]:
    """A tenant's claims ``user`` may see, newest first: those whose tenant they are and
    those they called about (``ClaimCaller``), each once, with how it is theirs (``TENANT``
    wins over ``CALLER``). The tenant card and the tenant's claims in the API read this.
    ``newest``: only that many are wanted (the caller still sets the limit)."""
    theirs = Claim.tenant_id == tenant_id
    own = sa.select(Claim.id).where(theirs)
    called = sa.select(ClaimCaller.claim_id.label("id")).where(ClaimCaller.tenant_id == tenant_id)
    if newest is not None and _seen_by_unit(user) is None:
        # The newest of each kind hold the newest of both: each read from its index, newest
        # first, instead of every claim of a tenant with hundreds sorted for twenty.
        newest_first = (Claim.created_at.desc(), Claim.id.desc())
        own = sa.select(own.order_by(*newest_first).limit(newest).subquery().c.id)
        called = sa.select(
            called.join(Claim, Claim.id == ClaimCaller.claim_id)
            .order_by(*newest_first)
            .limit(newest)
            .subquery()
            .c.id
        )
    claim_ids = sa.union(own, called).subquery()
    relation = sa.case((theirs, TENANT), else_=CALLER).label("relation")
    return (
        visible_claims(user)
        .where(Claim.id.in_(sa.select(claim_ids.c.id)))
        .add_columns(relation)
        .order_by(Claim.created_at.desc(), Claim.id.desc())
    )


# --- the staff screens: the queue and the claim page ----------------------------------------

QUEUE_PAGE_SIZE = 50
COUNTED_STATUSES = (*OPEN_STATUSES, ClaimStatus.RESOLVED)


@dataclass(frozen=True)
class QueuePage:
    claims: list[Claim]
    # Claims per status under the filters but the status one (the queue's tabs), for the
    # statuses a queue works through (COUNTED_STATUSES).
    counts: dict[ClaimStatus, int]
    # Claims matching every filter, the status one too (for the pages).
    total: int


def queue_page(
    session: Session,
    user: User,
    filters: ClaimFilters,
    now: datetime,
    page: int = 1,
    page_size: int = QUEUE_PAGE_SIZE,
) -> QueuePage:
    """One page of a queue: the claims ``user`` may see under ``filters``, the one whose
    resolution deadline comes first (or passed longest ago) first, and the counts per status
    (one GROUP BY, whose sum gives the number of pages without counting again)."""
    # The statuses a queue works through are counted; closed and cancelled claims, most of
    # a unit's history (hundreds of thousands at a large landlord), are not, unless shown.
    unfiltered = replace(filters, status=None)
    grouped = (
        list_claims(session, user, unfiltered, now)
        .where(Claim.status.in_(COUNTED_STATUSES))
        .order_by(None)
        .with_only_columns(Claim.status, sa.func.count())
        .group_by(Claim.status)
    )
    counts = {ClaimStatus(status): count for status, count in session.execute(grouped).all()}
    shown = filters.status or list(ClaimStatus)
    total = sum(counts.get(status, 0) for status in shown)
    uncounted = [status for status in shown if status not in COUNTED_STATUSES]
    if uncounted:
        total += session.execute(
            list_claims(session, user, replace(filters, status=uncounted), now)
            .order_by(None)
            .with_only_columns(sa.func.count())
        ).scalar_one()
    stmt = (
        list_claims(session, user, filters, now)
        .order_by(None)
        .order_by(Claim.resolution_due, Claim.id)
        # Each relation in a statement of its own: PostgreSQL plans a seven-way join over the
        # claims' many indexes in ~35 ms, seven primary-key lookups of 50 ids in none.
        .options(
            selectinload(Claim.category),
            selectinload(Claim.unit),
            selectinload(Claim.tenant),
            selectinload(Claim.building),
            selectinload(Claim.residence),
            selectinload(Claim.contractor),
            selectinload(Claim.assignee),
        )
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    return QueuePage(
        claims=list(session.execute(stmt).unique().scalars()),
        counts=counts,
        total=total,
    )


@dataclass(frozen=True)
class ClaimCase:
    """Everything the claim page shows, read in a bounded number of statements whatever the
    length of the timeline."""

    claim: Claim
    work_orders: list[WorkOrder]
    # The messages sent, by outbox id (their delivery), and the e-mails received from
    # contractors, by id (their sanitised HTML and attachments), that timeline events name.
    messages: dict[int, OutboxMessage]
    replies: dict[int, InboundEmail]
    # The e-mails filed on the claim that no timeline event names: the tenant's e-mail the
    # claim was registered from, with its attachments.
    received: list[InboundEmail]
    # The tenant's satisfaction surveys of the claim's resolutions, newest first, with every
    # answer received.
    surveys: list[Survey]


def claim_case(session: Session, user: User, reference: str) -> ClaimCase:
    """The claim of ``reference`` with its timeline, photos, work orders, messages and
    replies, if ``user`` may see it (else ``NotFound``)."""
    stored = typed_reference(reference)
    stmt = (
        visible_claims(user)
        .where(Claim.reference == stored)
        # Each relation read by its primary key: PostgreSQL took longer to plan the claim
        # joined to its eleven relations (about 10 ms) than to run all these lookups.
        .options(
            selectinload(Claim.category).joinedload(Category.sla_policy),
            selectinload(Claim.unit),
            selectinload(Claim.tenant).selectinload(Tenant.phones),
            selectinload(Claim.dwelling),
            selectinload(Claim.equipment),
            selectinload(Claim.building),
            selectinload(Claim.residence),
            selectinload(Claim.agency),
            selectinload(Claim.contractor),
            selectinload(Claim.contract),
            selectinload(Claim.assignee),
            selectinload(Claim.events).joinedload(ClaimEvent.actor),
            selectinload(Claim.photos),
        )
    )
    claim = session.execute(stmt).unique().scalar_one_or_none() if stored else None
    if claim is None:
        raise NotFound(f"No claim {reference}.")
    orders = list(
        session.execute(
            sa.select(WorkOrder)
            .where(WorkOrder.claim_id == claim.id)
            .options(joinedload(WorkOrder.contractor), joinedload(WorkOrder.contract))
            .order_by(WorkOrder.id.desc())
        ).scalars()
    )
    outbox_ids = _named_ids(claim.events, "outbox_id")
    inbound_ids = _named_ids(claim.events, "inbound_email_id")
    messages = (
        {
            m.id: m
            for m in session.execute(
                sa.select(OutboxMessage)
                .where(OutboxMessage.id.in_(outbox_ids))
                .options(
                    load_only(
                        OutboxMessage.id,
                        OutboxMessage.channel,
                        OutboxMessage.recipient,
                        OutboxMessage.status,
                        OutboxMessage.sent_at,
                        OutboxMessage.delivered_at,
                        OutboxMessage.failed_at,
                    )
                )
            ).scalars()
        }
        if outbox_ids
        else {}
    )
    emails = list(
        session.execute(
            sa.select(InboundEmail)
            .where(sa.or_(InboundEmail.id.in_(inbound_ids), InboundEmail.claim_id == claim.id))
            .options(
                load_only(
                    InboundEmail.id,
                    InboundEmail.from_address,
                    InboundEmail.subject,
                    InboundEmail.html,
                    InboundEmail.received_at,
                ),
                selectinload(InboundEmail.attachments).load_only(
                    InboundAttachment.id,
                    InboundAttachment.filename,
                    InboundAttachment.content_type,
                    InboundAttachment.size,
                    InboundAttachment.refused,
                ),
            )
            .order_by(InboundEmail.id)
        ).scalars()
    )
    named = set(inbound_ids)
    replies = {email.id: email for email in emails if email.id in named}
    received = [email for email in emails if email.id not in named]
    # Only a claim resolved at some time has surveys: the others cost no statement.
    ever_resolved = any(e.to_status == ClaimStatus.RESOLVED for e in claim.events)
    surveys = (
        []
        if not ever_resolved
        else list(
            session.execute(
                sa.select(Survey)
                .where(Survey.claim_id == claim.id)
                .options(joinedload(Survey.contractor), selectinload(Survey.answers))
                .order_by(Survey.id.desc())
            )
            .unique()
            .scalars()
        )
    )
    return ClaimCase(claim, orders, messages, replies, received, surveys)


def _named_ids(events: list[ClaimEvent], key: str) -> list[int]:
    return sorted(
        {
            value
            for event in events
            if event.changes and isinstance(value := event.changes.get(key), int)
        }
    )


def get_unit_for(session: Session, user: User, code: str) -> TreatmentUnit:
    """The unit of ``code`` if ``user`` may see its queue: a unit user, only their own."""
    unit = session.execute(
        sa.select(TreatmentUnit).where(TreatmentUnit.code == code)
    ).scalar_one_or_none()
    if unit is None or (user.role == Role.UNIT and unit.id != user.unit_id):
        raise NotFound(f"No treatment unit {code}.")
    return unit


def other_units(session: Session, claim: Claim | None = None) -> list[tuple[int, str]]:
    """The units a claim may be rerouted to (id, name), by name: every unit but its own."""
    stmt = sa.select(TreatmentUnit.id, TreatmentUnit.name).order_by(TreatmentUnit.name)
    if claim is not None:
        stmt = stmt.where(TreatmentUnit.id != claim.unit_id)
    return [(row.id, row.name) for row in session.execute(stmt)]


def get_claims_by_reference_for(
    session: Session, user: User, references: list[str], *, for_update: bool = False
) -> list[Claim]:
    """The claims of ``references`` (in that order) if ``user`` may see every one, else
    ``NotFound`` naming the first missing."""
    return [
        get_claim_by_reference_for(session, user, reference, for_update=for_update)
        for reference in references
    ]


def assignable_people(session: Session, claim: Claim) -> list[User]:
    """Who a claim may be assigned to: the active users of its unit, by name."""
    return list(
        session.execute(
            sa.select(User)
            .where(User.unit_id == claim.unit_id, User.role == Role.UNIT, User.active)
            .order_by(User.name)
        ).scalars()
    )


def agency_choices(session: Session) -> list[tuple[int, str]]:
    """Every agency (id, name), by name: the queue's agency filter."""
    return [
        (row.id, row.name)
        for row in session.execute(sa.select(Agency.id, Agency.name).order_by(Agency.name))
    ]


def residence_id_for_code(session: Session, code: str | None) -> int | None:
    """The residence of ``code`` (as typed, any case); None for no code."""
    if not code:
        return None
    found = session.execute(
        sa.select(Residence.id).where(Residence.code == code.strip().upper())
    ).scalar_one_or_none()
    if found is None:
        raise InvalidInput({"residence": [f"No residence {code}."]})
    return found
