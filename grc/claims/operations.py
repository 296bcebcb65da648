"""Claim use cases. Each one validates, changes the claim, appends to its timeline and
flushes; the caller (a view, a job, the CLI) owns the commit."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from grc.claims import catalogue_cache, handling, lifecycle, notify, timeline
from grc.claims.catalogue_cache import Catalogue, CategoryValue, PolicyValue
from grc.claims.lifecycle import Action
from grc.claims.models import (
    Category,
    Claim,
    ClaimCaller,
    ClaimEvent,
    ClaimStatus,
    Clock,
    EventKind,
    IntakeChannel,
    LocationKind,
    Priority,
    Route,
    RouteKind,
    RouteReason,
    RoutingRule,
    SlaPolicy,
    TreatmentUnit,
    Visibility,
)
from grc.claims.references import claim_insert
from grc.claims.routing import NoRoute, choose_route
from grc.claims.sla import sla_calendar
from grc.clock import local_today, settings
from grc.contracts import work_orders
from grc.contracts.models import OPEN_WORK_ORDER_STATUSES, WorkOrder, WorkOrderStatus
from grc.db import StrEnum, insert_returning, utcnow
from grc.errors import Conflict, Forbidden, InvalidInput
from grc.housing.models import Agency, Building, Dwelling, Equipment, Residence, Territory
from grc.messaging.models import Purpose
from grc.people.models import Lease, Role, Tenant, User
from grc.surveys import planning as survey_planning


@dataclass(frozen=True)
class NewClaim:
    category: str
    channel: IntakeChannel
    description: str
    dwelling_id: int | None = None
    building_id: int | None = None
    equipment_id: int | None = None
    tenant_id: int | None = None
    priority: Priority | None = None
    # The call-centre agent answers the tenant during the call: first-contact resolution.
    resolve_now: bool = False
    resolution: str | None = None


@dataclass(frozen=True)
class _Location:
    kind: LocationKind
    building: Building
    dwelling: Dwelling | None
    equipment: Equipment | None


def create_claim(
    session: Session, command: NewClaim, actor: User | None, now: datetime | None = None
) -> Claim:
    now = now or utcnow()
    today = local_today(now)

    if not command.description.strip():
        raise InvalidInput({"description": ["Describe the problem."]})
    catalogue = catalogue_cache.catalogue(session)
    category = _intake_category(catalogue, command.category)
    location, tenant = _resolve_location_and_tenant(session, category, command, today)
    if command.resolve_now and not (command.resolution or "").strip():
        raise InvalidInput({"resolution": ["A resolution is required to resolve at once."]})
    if command.resolve_now:
        _check_first_contact_possible(category)

    residence = location.building.residence
    try:
        route = choose_route(catalogue, category, residence, today)
    except NoRoute as exc:
        raise Conflict(f"No treatment unit can take this claim: {exc}.") from exc

    policy = _policy_for(category)
    calendar = sla_calendar(residence)
    description = command.description.strip()
    resolution = (command.resolution or "").strip() if command.resolve_now else None
    statement, reference = claim_insert(session, today.year)
    values = {
        "status": ClaimStatus.RESOLVED if command.resolve_now else ClaimStatus.ASSIGNED,
        "channel": command.channel,
        "priority": command.priority or category.default_priority,
        "category_id": category.id,
        "description": description,
        "tenant_id": tenant.id if tenant else None,
        "location_kind": location.kind,
        "dwelling_id": location.dwelling.id if location.dwelling else None,
        "equipment_id": location.equipment.id if location.equipment else None,
        "building_id": location.building.id,
        "residence_id": residence.id,
        "agency_id": residence.agency_id,
        "sla_clock": policy.clock,
        "response_due": calendar.add(now, timedelta(hours=policy.response_hours), policy.clock),
        "resolution_due": calendar.add(now, timedelta(hours=policy.resolution_hours), policy.clock),
        "created_by_id": actor.id if actor else None,
        "created_at": now,
        "updated_at": now,
        **_route_columns(route),
        "resolution": resolution,
        "resolved_at": now if command.resolve_now else None,
        "responded_at": now if command.resolve_now else None,
        # Resolved while being received: no handling time at all.
        "response_seconds": 0 if command.resolve_now else None,
        "resolution_seconds": 0 if command.resolve_now else None,
        "first_contact_resolution": command.resolve_now,
        **reference,
    }
    # The messages and the response read the claim's relations: it gets the objects loaded
    # above, so none is read again.
    claim = insert_returning(
        session,
        Claim,
        values,
        {
            "category": catalogue.row(Category, category),
            "tenant": tenant,
            "dwelling": location.dwelling,
            "equipment": location.equipment,
            "building": location.building,
            "residence": residence,
            "agency": residence.agency,
            "unit": route.unit,
            "contractor": route.contractor,
            "contract": route.contract,
            "created_by": actor,
            "assignee": None,  # a new claim is nobody's yet
            "events": [],
            "photos": [],
            "callers": [],
            "calls": [],  # linked to a call afterwards, if ever
        },
        statement=statement,
    )
    created = timeline.NewEvent(
        EventKind.CREATED, Visibility.TENANT, description, to_status=ClaimStatus.RECEIVED
    )
    summary: dict[str, object] = {"route": _route_summary(route)}
    if command.resolve_now:
        resolved = timeline.NewEvent(
            EventKind.STATUS_CHANGED,
            body=command.resolution,
            changes=summary,
            action=Action.RESOLVE,
            from_status=ClaimStatus.RECEIVED,
            to_status=ClaimStatus.RESOLVED,
        )
        timeline.add_events(session, claim, now, [created, resolved], actor=actor)
        _after_resolution(session, claim, now)
    else:
        routed = timeline.NewEvent(
            EventKind.ROUTED,
            body=route.reason,
            changes=summary,
            from_status=ClaimStatus.RECEIVED,
            to_status=ClaimStatus.ASSIGNED,
        )
        timeline.add_events(session, claim, now, [created, routed], actor=actor)
        if route.kind == RouteKind.CONTRACTOR:
            work_orders.open_work_order(session, claim, now)
        notify.notify_tenants(session, claim, Purpose.ACKNOWLEDGEMENT, now)
        notify.alert_on_call(session, claim, now)
    session.flush()
    return claim


def _route_summary(route: Route) -> dict[str, object]:
    return {
        "kind": str(route.kind),
        "unit_id": route.unit.id,
        "reason": str(route.reason_code),
        "contractor_id": route.contractor.id if route.contractor else None,
        "contract_id": route.contract.id if route.contract else None,
    }


def _route_columns(route: Route) -> dict[str, object]:
    """What a route writes on its claim."""
    return {
        "route_kind": route.kind,
        "unit_id": route.unit.id,
        "contractor_id": route.contractor.id if route.contractor else None,
        "contract_id": route.contract.id if route.contract else None,
        "route_reason_code": route.reason_code,
        "route_reason": route.reason,
    }


def _apply_route(claim: Claim, route: Route) -> None:
    for name, value in _route_columns(route).items():
        setattr(claim, name, value)
    # The relations too, so that what is read before the next flush is the new route.
    claim.unit, claim.contractor, claim.contract = route.unit, route.contractor, route.contract


def _intake_category(catalogue: Catalogue, code: str) -> CategoryValue:
    category = catalogue.category(code.strip().upper())
    if category is None or not category.active:
        raise InvalidInput({"category": [f"Unknown category '{code}'."]})
    if category.location_kind is None:
        raise InvalidInput(
            {"category": [f"'{category.code}' is a domain; pick one of its categories."]}
        )
    return category


def _policy_for(category: CategoryValue) -> PolicyValue:
    if category.effective_policy is not None:
        return category.effective_policy
    raise Conflict(f"Category '{category.code}' has no SLA policy; an administrator must set one.")


# Routing and the SLA calendar need the building's residence and agency: one query, not four.
_LOCATION_LOADS: dict[str, tuple[type[Dwelling | Building | Equipment], Any]] = {
    "dwelling_id": (
        Dwelling,
        joinedload(Dwelling.building).joinedload(Building.residence).joinedload(Residence.agency),
    ),
    "building_id": (
        Building,
        joinedload(Building.residence).joinedload(Residence.agency),
    ),
    "equipment_id": (
        Equipment,
        joinedload(Equipment.building).joinedload(Building.residence).joinedload(Residence.agency),
    ),
}


def _resolve_location_and_tenant(
    session: Session, category: CategoryValue, command: NewClaim, today: date
) -> tuple[_Location, Tenant | None]:
    given = {
        name: value
        for name, value in (
            ("dwelling_id", command.dwelling_id),
            ("building_id", command.building_id),
            ("equipment_id", command.equipment_id),
        )
        if value is not None
    }
    if len(given) != 1:
        raise InvalidInput(
            {"location": ["Give exactly one of dwelling_id, building_id, equipment_id."]}
        )
    field, value = next(iter(given.items()))
    # A claim about a dwelling is its occupant's: they come in the same query, with the
    # phones the acknowledgement needs.
    if field != "dwelling_id" or category.location_kind != LocationKind.DWELLING:
        occupant = _Occupant.NONE
    elif command.tenant_id is None:
        occupant = _Occupant.CURRENT
    else:
        occupant = _Occupant.NAMED
    row = (
        session.execute(
            _location_statement(field, occupant),
            {"location_id": value, "today": today, "tenant_id": command.tenant_id},
        )
        .unique()
        .one_or_none()
    )
    if row is None:
        raise InvalidInput({field: [f"No {field.removesuffix('_id')} with id {value}."]})
    location = _check_location(category, row[0])

    if occupant != _Occupant.NONE:
        tenant = row[1]
        if command.tenant_id is not None:
            if tenant is None:
                raise InvalidInput({"tenant_id": [f"No tenant with id {command.tenant_id}."]})
            if not row[2]:
                raise InvalidInput(
                    {"tenant_id": ["This tenant has no current lease on that dwelling."]}
                )
        return location, tenant
    if command.tenant_id is None:
        return location, None
    tenant = session.get(Tenant, command.tenant_id)
    if tenant is None:
        raise InvalidInput({"tenant_id": [f"No tenant with id {command.tenant_id}."]})
    return location, tenant


class _Occupant(StrEnum):
    NONE = "none"
    CURRENT = "current"  # the tenant holding the dwelling's current lease, if any
    NAMED = "named"  # the tenant named, and whether they hold a current lease on it


@functools.cache
def _location_statement(field: str, occupant: _Occupant) -> sa.Select:
    """The location's query, with the tenant when the claim is about a dwelling. Built once
    per shape: parameters ``location_id``, ``today`` and ``tenant_id``."""
    model, chain = _LOCATION_LOADS[field]
    statement = sa.select(model).where(model.id == sa.bindparam("location_id")).options(chain)
    if occupant == _Occupant.NONE:
        return statement
    current = (
        Lease.dwelling_id == Dwelling.id,
        Lease.current_on(sa.bindparam("today", type_=sa.Date)),
    )
    tenant_id: sa.ColumnElement[Any]
    if occupant == _Occupant.CURRENT:
        tenant_id = (
            sa.select(Lease.tenant_id)
            .where(*current)
            .order_by(Lease.start_date.desc())
            .limit(1)
            .correlate(Dwelling)
            .scalar_subquery()
        )
        extra: tuple[Any, ...] = (Tenant,)
    else:
        tenant_id = sa.bindparam("tenant_id", type_=sa.Integer)
        holds_lease = sa.exists().where(Lease.tenant_id == tenant_id, *current).correlate(Dwelling)
        extra = (Tenant, holds_lease)
    return (
        statement.outerjoin(Tenant, Tenant.id == tenant_id)
        .add_columns(*extra)
        .options(joinedload(Tenant.phones))
    )


def _check_location(category: CategoryValue, target: Dwelling | Building | Equipment) -> _Location:
    """Where the claim is, as its category wants it."""
    wanted = category.location_kind
    if wanted == LocationKind.EQUIPMENT:
        if not isinstance(target, Equipment):
            raise InvalidInput(
                {
                    "equipment_id": [
                        f"Category '{category.code}' is about a piece of equipment "
                        f"({category.equipment_kind})."
                    ]
                }
            )
        if category.equipment_kind and target.kind != category.equipment_kind:
            raise InvalidInput(
                {
                    "equipment_id": [
                        f"Equipment {target.code} is a {target.kind}, "
                        f"not a {category.equipment_kind}."
                    ]
                }
            )
        return _Location(LocationKind.EQUIPMENT, target.building, None, target)
    if wanted == LocationKind.DWELLING:
        if not isinstance(target, Dwelling):
            raise InvalidInput(
                {"dwelling_id": [f"Category '{category.code}' is about a dwelling."]}
            )
        return _Location(LocationKind.DWELLING, target.building, target, None)
    # Common areas: a caller may name their own dwelling; the claim is on its building.
    if isinstance(target, Equipment):
        raise InvalidInput({"building_id": [f"Category '{category.code}' is about common areas."]})
    if isinstance(target, Dwelling):
        return _Location(LocationKind.BUILDING, target.building, target, None)
    return _Location(LocationKind.BUILDING, target, None, None)


@dataclass(frozen=True)
class TransitionRequest:
    action: Action
    comment: str | None = None
    unit_id: int | None = None
    # Assign to this person of the claim's unit (without ``unit_id``: the unit stays).
    assignee_id: int | None = None


def transition_claim(
    session: Session,
    claim: Claim,
    request: TransitionRequest,
    actor: User | None,
    now: datetime | None = None,
    *,
    work_order: WorkOrder | None = None,
    system: bool = False,
) -> Claim:
    """Apply a lifecycle action, by a user (``actor``) or by the contractor of
    ``work_order`` (its reply or one-click link, read by GRC; ``actor`` None): only starting
    and resolving are open to a contractor, and only through an open order of this claim.
    ``system``: GRC itself acts on what the tenant said (their survey answer says the work
    was not done), with no user and no order: only reopening is open to it."""
    now = now or utcnow()
    action = request.action
    if system:
        allowed = lifecycle.SYSTEM_ACTIONS
        role = "system"
    elif actor is not None:
        allowed = lifecycle.ACTIONS_BY_ROLE[actor.role]
        role = str(actor.role)
    else:
        _check_contractor_order(claim, work_order)
        allowed = lifecycle.CONTRACTOR_ACTIONS
        role = "contractor"
    if action not in allowed:
        raise Forbidden(f"Your role ({role}) may not '{action}' a claim.")
    try:
        target = lifecycle.target_status(action, claim.status, claim.status_before_pause)
    except lifecycle.TransitionRefused as exc:
        raise Conflict(str(exc)) from exc
    comment = (request.comment or "").strip() or None
    extra: dict[str, object] = {}
    previous = claim.status

    if action == Action.ASSIGN and request.assignee_id is not None and request.unit_id is None:
        extra = _assign_person(session, claim, request.assignee_id)
    elif action == Action.ASSIGN:
        # A contractor (no actor) may only start and resolve: an assignment has its user.
        extra = _reassign(session, claim, request, cast("User", actor), now)
    elif action == Action.START:
        handling.record_response(session, claim, now)
    elif action == Action.WAIT_TENANT:
        if not comment:
            raise InvalidInput({"comment": ["Write the question the tenant is asked."]})
        claim.paused_at = now
        claim.status_before_pause = previous
        handling.record_response(session, claim, now)
    elif action == Action.RESUME:
        extra = _resume_clock(claim, now)
    elif action == Action.RESOLVE:
        if not comment:
            raise InvalidInput({"comment": ["Say how the claim was resolved."]})
        first_contact = (
            actor is not None
            and actor.role == Role.AGENT
            and previous in lifecycle.FIRST_CONTACT_STATUSES
        )
        if first_contact:
            _check_first_contact_possible(claim.category)
        claim.resolution = comment
        handling.record_resolution(session, claim, now)
        claim.first_contact_resolution = first_contact
        extra = {"first_contact_resolution": claim.first_contact_resolution}
    elif action == Action.REOPEN:
        handling.forget_resolution(claim)
        claim.first_contact_resolution = False
    elif action == Action.CLOSE:
        claim.closed_at = now
    elif action == Action.CANCEL:
        if not comment:
            raise InvalidInput({"comment": ["Say why the claim is cancelled."]})
        claim.cancelled_at = now
        claim.paused_at = claim.status_before_pause = None
    if previous == ClaimStatus.WAITING_TENANT:
        # The claim no longer waits for the answer: a question still held back (quiet hours)
        # would reach the tenant stale.
        # (The claim is half-changed here: not flushed before the outbox's UPDATE.)
        with session.no_autoflush:
            withdrawn = notify.withdraw_questions(session, claim)
        if withdrawn:
            extra = {**extra, "questions_withdrawn": withdrawn}

    _change_status(session, claim, action, target, actor, now, body=comment, extra=extra)
    if action == Action.CANCEL:
        # Nobody chases a contractor for a claim that no longer exists.
        work_orders.cancel_open_orders(session, claim, now, "demande annulée")
    if action in (Action.REOPEN, Action.CANCEL):
        # A survey of a resolution that no longer holds would ask about work not finished.
        survey_planning.cancel_planned(session, claim, now)
    session.flush()
    if action == Action.RESOLVE:
        _after_resolution(session, claim, now)
    elif action == Action.WAIT_TENANT:
        notify.notify_tenants(
            session, claim, Purpose.QUESTION, now, occasion=now.isoformat(), question=comment
        )
    return claim


def _after_resolution(session: Session, claim: Claim, now: datetime) -> None:
    """What every resolution causes, whichever way it came (a unit, the API, the call
    centre's first-contact resolution, the contractor's reply or link): the tenants are told
    and the tenant's satisfaction survey is planned, in the same transaction."""
    notify.notify_tenants(session, claim, Purpose.RESOLVED, now, occasion=now.isoformat())
    survey_planning.plan_survey(session, claim, now)


def _check_contractor_order(claim: Claim, work_order: WorkOrder | None) -> None:
    """A change without a user is the contractor's: it needs an open order of this claim."""
    if work_order is None:
        raise Forbidden("A claim is changed by a user, or by a contractor through its order.")
    if work_order.claim_id != claim.id or work_order.status not in OPEN_WORK_ORDER_STATUSES:
        raise Conflict(
            f"Work order {work_order.id} is {work_order.status}: its contractor no longer "
            f"acts on claim {claim.reference}."
        )


def _check_first_contact_possible(category: Category | CategoryValue) -> None:
    """A category whose problem needs someone on site (a leak, a gas smell…) is never
    "resolved" during the call: it needs a unit or a contractor."""
    if not category.fcr_possible:
        raise Conflict(
            f"First-contact resolution is not possible for category '{category.code}' "
            f"({category.label('en')}): the claim must be handled by a unit or a contractor."
        )


# Who plans a visit with the tenant, besides the contractor of an open order.
VISIT_PLANNERS = frozenset({Role.AGENT, Role.UNIT})


def may_plan_visit(claim: Claim, actor: User) -> bool:
    """Whether ``schedule_appointment`` lets ``actor`` plan ``claim``'s visit now."""
    return claim.is_open and actor.role in VISIT_PLANNERS


def schedule_appointment(
    session: Session,
    claim: Claim,
    at: datetime,
    actor: User | None,
    now: datetime | None = None,
    *,
    end: datetime | None = None,
    note: str | None = None,
    work_order: WorkOrder | None = None,
) -> Claim:
    """Record the visit planned with the tenant (by a unit or the contractor) and tell them.

    ``end`` makes it a window ("entre 8h et 12h"). The claim's open work order (or the one
    given, whose contractor wrote) is scheduled for the same visit.
    """
    now = now or utcnow()
    if not claim.is_open:
        raise Conflict(f"The claim is {claim.status}: no visit can be planned.")
    if at.tzinfo is None:
        raise InvalidInput({"at": ["Give a date and time with its offset."]})
    if at < now - timedelta(hours=1):
        raise InvalidInput({"at": ["The visit cannot be in the past."]})
    if end is not None:
        if end.tzinfo is None:
            raise InvalidInput({"end": ["Give a date and time with its offset."]})
        if end <= at:
            raise InvalidInput({"end": ["The window must end after it starts."]})
        tz = settings().tz
        if end.astimezone(tz).date() != at.astimezone(tz).date():
            raise InvalidInput({"end": ["The window must end on the day it starts."]})
    if actor is None:
        # Without a person, only the contractor of an open order of this claim plans a visit.
        _check_contractor_order(claim, work_order)
    elif actor.role not in VISIT_PLANNERS:
        raise Forbidden(f"Your role ({actor.role}) may not plan visits.")
    at = at.astimezone(UTC)
    end = end.astimezone(UTC) if end is not None else None
    order = work_order or work_orders.open_work_order_for_claim(session, claim.id)
    if order is not None:
        work_orders.record_appointment(order, at, end, now)
    previous = (claim.appointment_at, claim.appointment_end)
    if previous == (at, end):
        return claim
    claim.appointment_at, claim.appointment_end = at, end
    claim.updated_at = now
    handling.record_response(session, claim, now)
    changes: dict[str, object] = {
        "appointment_at": [previous[0].isoformat() if previous[0] else None, at.isoformat()],
        "appointment_end": [
            previous[1].isoformat() if previous[1] else None,
            end.isoformat() if end else None,
        ],
    }
    if order is not None and order.status == WorkOrderStatus.SCHEDULED:
        changes["work_order_id"] = order.id
    timeline.add_event(
        session,
        claim,
        EventKind.APPOINTMENT,
        now,
        actor=actor,
        body=note,
        visibility=Visibility.TENANT,
        changes=changes,
    )
    session.flush()
    occasion = at.isoformat() + (f"/{end.isoformat()}" if end else "")
    notify.notify_tenants(session, claim, Purpose.SCHEDULED, now, occasion=occasion)
    return claim


def _assign_person(session: Session, claim: Claim, assignee_id: int) -> dict[str, object]:
    """The claim followed by one person of its unit (the unit stays)."""
    person = session.get(User, assignee_id)
    if (
        person is None
        or not person.active
        or person.role != Role.UNIT
        or person.unit_id != claim.unit_id
    ):
        raise InvalidInput({"assignee_id": ["Name an active user of the claim's unit."]})
    before = claim.assignee_id
    claim.assignee_id = person.id
    return {"assignee_id": [before, person.id]}


def assigned_by_routing(claim: Claim) -> bool:
    """Whether assigning ``claim`` without naming a unit routes it (a claim received but
    not routed yet); any other assignment names the unit it goes to."""
    return claim.status == ClaimStatus.RECEIVED


MAX_BULK_REROUTE = 50  # one page of a queue


def reroute_claims(
    session: Session, claims: list[Claim], unit_id: int, actor: User, now: datetime | None = None
) -> None:
    """Reroute several claims to one unit (a queue's selection), all or none: the first
    claim the lifecycle or the unit refuses stops it, named, and the caller rolls back."""
    if not claims:
        raise InvalidInput({"claims": ["Select the claims to reroute."]})
    if len(claims) > MAX_BULK_REROUTE:
        raise InvalidInput({"claims": [f"At most {MAX_BULK_REROUTE} claims at once."]})
    now = now or utcnow()
    for claim in claims:
        try:
            transition_claim(
                session, claim, TransitionRequest(Action.ASSIGN, unit_id=unit_id), actor, now
            )
        except Conflict as exc:
            raise Conflict(f"{claim.reference}: {exc}") from exc


def _reassign(
    session: Session, claim: Claim, request: TransitionRequest, actor: User, now: datetime
) -> dict[str, object]:
    before = {"unit_id": claim.unit_id, "contractor_id": claim.contractor_id}
    if request.unit_id is None:
        if not assigned_by_routing(claim):
            raise InvalidInput({"unit_id": ["Name the unit the claim is rerouted to."]})
        catalogue = catalogue_cache.catalogue(session)
        try:
            route = choose_route(
                catalogue,
                catalogue.category_by_id(claim.category_id),
                claim.residence,
                local_today(now),
            )
        except NoRoute as exc:
            raise Conflict(f"No treatment unit can take this claim: {exc}.") from exc
    else:
        unit = session.get(TreatmentUnit, request.unit_id)
        if unit is None:
            raise InvalidInput({"unit_id": [f"No treatment unit with id {request.unit_id}."]})
        if unit.id == claim.unit_id and claim.route_kind == RouteKind.UNIT:
            raise Conflict(f"The claim is already with {unit.name}.")
        route = Route(
            kind=RouteKind.UNIT,
            unit=unit,
            reason_code=RouteReason.MANUAL,
            reason=f"Réaffectée par {actor.name} à {unit.name}.",
        )
    previous_contract = claim.contract_id
    previous_assignee = claim.assignee_id
    if route.unit.id != claim.unit_id:
        claim.assignee_id = None  # nobody of the new unit follows it yet
    _apply_route(claim, route)
    new_contract = route.contract.id if route.contract else None
    if previous_contract is not None and new_contract is None:
        work_orders.cancel_open_orders(session, claim, now, f"réaffectée à {route.unit.name}")
    elif route.contract is not None and new_contract != previous_contract:
        if previous_contract is not None:
            work_orders.supersede_open_orders(
                session, claim, now, f"demande confiée au contrat {route.contract.reference}"
            )
        session.flush()
        work_orders.open_work_order(session, claim, now)
    return {
        "unit_id": [before["unit_id"], route.unit.id],
        "contractor_id": [
            before["contractor_id"],
            route.contractor.id if route.contractor else None,
        ],
        "route": _route_summary(route),
        **(
            {"assignee_id": [previous_assignee, None]}
            if previous_assignee is not None and claim.assignee_id is None
            else {}
        ),
    }


def _resume_clock(claim: Claim, now: datetime) -> dict[str, object]:
    """Give back the SLA time that was left when the claim was paused."""
    if claim.paused_at is None:
        raise Conflict("The claim is not paused.")
    calendar = sla_calendar(claim.residence)
    changes: dict[str, object] = {}
    deadlines = ["resolution_due"] + ([] if claim.responded_at else ["response_due"])
    for name in deadlines:
        due: datetime = getattr(claim, name)
        if due > claim.paused_at:
            left = calendar.elapsed(claim.paused_at, due, claim.sla_clock)
            new_due = calendar.add(now, left, claim.sla_clock)
            changes[name] = [due.isoformat(), new_due.isoformat()]
            setattr(claim, name, new_due)
    claim.paused_at = None
    claim.status_before_pause = None
    return changes


def add_comment(
    session: Session,
    claim: Claim,
    body: str,
    visibility: Visibility,
    actor: User,
    now: datetime | None = None,
) -> ClaimEvent:
    now = now or utcnow()
    if visibility == Visibility.TENANT:
        handling.record_response(session, claim, now)
    claim.updated_at = now
    event = timeline.add_event(
        session,
        claim,
        EventKind.COMMENT,
        now,
        actor=actor,
        body=body.strip(),
        visibility=visibility,
    )
    session.flush()
    return event


# How the timeline, in French, says a call came in.
_CHANNEL_WORDS = {
    IntakeChannel.PHONE: "téléphone",
    IntakeChannel.WEB: "site web",
    IntakeChannel.APP: "application",
    IntakeChannel.EMAIL: "e-mail",
    IntakeChannel.LETTER: "courrier",
    IntakeChannel.DESK: "accueil",
}


def attach_caller(
    session: Session,
    claim: Claim,
    tenant: Tenant,
    channel: IntakeChannel,
    actor: User,
    note: str | None = None,
    now: datetime | None = None,
) -> ClaimCaller:
    """Record a further call about ``claim``'s problem by ``tenant``, instead of a duplicate
    claim: one more call on one breakdown. Every call is recorded, the same tenant's second
    call too; the caller is told of the resolution like the claim's own tenant. Only an
    open claim takes calls: a closed problem that comes back is a new claim (or a reopening).
    """
    now = now or utcnow()
    if not claim.is_open:
        raise Conflict(
            f"Claim {claim.reference} is {claim.status}: a new call about this problem is a "
            "new claim."
        )
    note = (note or "").strip() or None
    # The claim's first call is its intake: the attached calls come after it.
    earlier_calls = session.execute(
        sa.select(sa.func.count()).where(ClaimCaller.claim_id == claim.id)
    ).scalar_one()
    call = insert_returning(
        session,
        ClaimCaller,
        {
            "claim_id": claim.id,
            "tenant_id": tenant.id,
            "channel": channel,
            "note": note,
            "called_at": now,
            "recorded_by_id": actor.id,
        },
        {"claim": claim, "tenant": tenant, "recorded_by": actor},
    )
    if "callers" not in sa.inspect(claim).unloaded:
        set_committed_value(claim, "callers", [*claim.callers, call])
    call_number = earlier_calls + 2
    body = (
        f"Appel n° {call_number} pour cette panne : {tenant.full_name} ({_CHANNEL_WORDS[channel]})."
    )
    claim.updated_at = now
    timeline.add_event(
        session,
        claim,
        EventKind.CALLER,
        now,
        actor=actor,
        # Another tenant's name and words: for staff only.
        visibility=Visibility.INTERNAL,
        body=f"{body}\n{note}" if note else body,
        changes={
            "claim_caller_id": call.id,
            "tenant_id": tenant.id,
            "channel": str(channel),
            "call_number": call_number,
        },
    )
    session.flush()
    return call


def _change_status(
    session: Session,
    claim: Claim,
    action: Action | None,
    target: ClaimStatus,
    actor: User | None,
    now: datetime,
    *,
    kind: EventKind = EventKind.STATUS_CHANGED,
    body: str | None = None,
    extra: dict[str, object] | None = None,
) -> None:
    previous = claim.status
    claim.status = target
    claim.updated_at = now
    timeline.add_event(
        session,
        claim,
        kind,
        now,
        actor=actor,
        action=action,
        from_status=previous,
        to_status=target,
        body=body,
        changes=extra or None,
    )


@dataclass(frozen=True)
class NewRoutingRule:
    category: str
    unit_id: int
    residence_id: int | None = None
    agency_id: int | None = None
    territory_id: int | None = None


def create_routing_rule(session: Session, command: NewRoutingRule) -> RoutingRule:
    scopes = {
        name: value
        for name, value in (
            ("residence_id", command.residence_id),
            ("agency_id", command.agency_id),
            ("territory_id", command.territory_id),
        )
        if value is not None
    }
    errors: dict[str, list[str]] = {}
    if len(scopes) > 1:
        errors["scope"] = ["Give at most one of residence_id, agency_id, territory_id."]
    category = session.execute(
        sa.select(Category).where(Category.code == command.category.strip().upper())
    ).scalar_one_or_none()
    if category is None:
        errors["category"] = [f"Unknown category '{command.category}'."]
    if session.get(TreatmentUnit, command.unit_id) is None:
        errors["unit_id"] = [f"No treatment unit with id {command.unit_id}."]
    models = {"residence_id": Residence, "agency_id": Agency, "territory_id": Territory}
    for name, value in scopes.items():
        if session.get(models[name], value) is None:
            errors[name] = [f"No {name.removesuffix('_id')} with id {value}."]
    if errors:
        raise InvalidInput(errors)
    rule = RoutingRule(category=category, unit_id=command.unit_id, **scopes)
    session.add(rule)
    session.flush()
    return rule


def delete_routing_rule(session: Session, rule: RoutingRule) -> None:
    session.delete(rule)
    session.flush()


# A category's SLA policy given as this: none of its own, its domain's applies.
DOMAIN_POLICY = ""


@dataclass(frozen=True)
class CategoryChange:
    label_fr: str | None = None
    label_en: str | None = None
    default_priority: Priority | None = None
    sla_policy: str | None = None
    technical: bool | None = None
    active: bool | None = None


def update_category(session: Session, category: Category, change: CategoryChange) -> Category:
    """Apply the fields that are given; ``None`` means unchanged."""
    if change.sla_policy == DOMAIN_POLICY:
        category.sla_policy = None
    elif change.sla_policy is not None:
        category.sla_policy = _policy_by_code(session, change.sla_policy)
    for name in ("label_fr", "label_en", "default_priority", "technical", "active"):
        value = getattr(change, name)
        if value is not None:
            setattr(category, name, value)
    session.flush()
    return category


@dataclass(frozen=True)
class CategoryFields:
    """A category as the administrator writes it: ``parent`` is its domain's code (none: a
    domain itself), ``sla_policy`` a policy code (none: the domain's policy applies)."""

    code: str
    label_fr: str
    label_en: str
    parent: str | None = None
    default_priority: Priority = Priority.NORMAL
    sla_policy: str | None = None
    technical: bool = False


def _policy_by_code(session: Session, code: str) -> SlaPolicy:
    policy = session.execute(
        sa.select(SlaPolicy).where(SlaPolicy.code == code.strip().upper())
    ).scalar_one_or_none()
    if policy is None:
        raise InvalidInput({"sla_policy": [f"Unknown SLA policy '{code}'."]})
    return policy


def create_category(session: Session, command: CategoryFields) -> Category:
    """A new domain, or a new category inside a domain (the tree has two levels)."""
    code = command.code.strip().upper()
    errors: dict[str, list[str]] = {}
    if session.execute(sa.select(Category.id).where(Category.code == code)).first():
        errors["code"] = [f"A category '{code}' exists already."]
    parent = None
    if command.parent:
        parent = session.execute(
            sa.select(Category).where(Category.code == command.parent.strip().upper())
        ).scalar_one_or_none()
        if parent is None:
            errors["parent"] = [f"Unknown category '{command.parent}'."]
        elif parent.parent_id is not None:
            errors["parent"] = ["A category belongs to a domain, not to another category."]
    if errors:
        raise InvalidInput(errors)
    category = Category(
        code=code,
        parent=parent,
        label_fr=command.label_fr.strip(),
        label_en=command.label_en.strip(),
        default_priority=command.default_priority,
        technical=command.technical,
        sla_policy=_policy_by_code(session, command.sla_policy) if command.sla_policy else None,
    )
    session.add(category)
    session.flush()
    return category


@dataclass(frozen=True)
class SlaPolicyFields:
    code: str
    label_fr: str
    label_en: str
    response_hours: int
    resolution_hours: int
    clock: Clock


def _check_policy_hours(command: SlaPolicyFields) -> None:
    # The same rule as the table's CHECK, said field by field before the database says it.
    if command.response_hours <= 0:
        raise InvalidInput({"response_hours": ["Must be at least 1 hour."]})
    if command.resolution_hours < command.response_hours:
        raise InvalidInput({"resolution_hours": ["Cannot be shorter than the response time."]})


def create_sla_policy(session: Session, command: SlaPolicyFields) -> SlaPolicy:
    _check_policy_hours(command)
    code = command.code.strip().upper()
    if session.execute(sa.select(SlaPolicy.id).where(SlaPolicy.code == code)).first():
        raise InvalidInput({"code": [f"A policy '{code}' exists already."]})
    policy = SlaPolicy(
        code=code,
        label_fr=command.label_fr.strip(),
        label_en=command.label_en.strip(),
        response_hours=command.response_hours,
        resolution_hours=command.resolution_hours,
        clock=command.clock,
    )
    session.add(policy)
    session.flush()
    return policy


def update_sla_policy(session: Session, policy: SlaPolicy, command: SlaPolicyFields) -> SlaPolicy:
    """New deadlines apply to claims created from now on; a claim keeps the deadlines it got.
    The code names the policy in the catalogue file and stays."""
    _check_policy_hours(command)
    policy.label_fr = command.label_fr.strip()
    policy.label_en = command.label_en.strip()
    policy.response_hours = command.response_hours
    policy.resolution_hours = command.resolution_hours
    policy.clock = command.clock
    session.flush()
    return policy


@dataclass(frozen=True)
class UnitFields:
    code: str
    name: str
    kind: str
    agency_id: int | None = None
    email: str | None = None


def _check_unit(session: Session, command: UnitFields, unit: TreatmentUnit | None) -> str:
    code = command.code.strip()
    errors: dict[str, list[str]] = {}
    # Codes are typed by people: "metz-technique" and "METZ-technique" would be one unit.
    same_code = sa.select(TreatmentUnit.id).where(sa.func.upper(TreatmentUnit.code) == code.upper())
    # An agency has one unit of each kind (the table's unique constraint): routing by kind
    # would not know which of two to take.
    same_kind = sa.select(TreatmentUnit.id).where(
        TreatmentUnit.kind == command.kind, TreatmentUnit.agency_id == command.agency_id
    )
    if unit is not None:
        same_code = same_code.where(TreatmentUnit.id != unit.id)
        same_kind = same_kind.where(TreatmentUnit.id != unit.id)
    if session.execute(same_code).first():
        errors["code"] = [f"A unit '{code}' exists already."]
    if command.agency_id is not None:
        if session.get(Agency, command.agency_id) is None:
            errors["agency_id"] = [f"No agency with id {command.agency_id}."]
        elif session.execute(same_kind).first():
            errors["kind"] = ["This agency has a unit of this kind already."]
    if errors:
        raise InvalidInput(errors)
    return code


def create_unit(session: Session, command: UnitFields) -> TreatmentUnit:
    code = _check_unit(session, command, None)
    unit = TreatmentUnit(
        code=code,
        name=command.name.strip(),
        kind=command.kind.strip(),
        agency_id=command.agency_id,
        email=command.email.strip().lower() if command.email else None,
    )
    session.add(unit)
    session.flush()
    return unit


def update_unit(session: Session, unit: TreatmentUnit, command: UnitFields) -> TreatmentUnit:
    """Claims routed to the unit stay with it; new claims follow the changed unit."""
    unit.code = _check_unit(session, command, unit)
    unit.name = command.name.strip()
    unit.kind = command.kind.strip()
    unit.agency_id = command.agency_id
    unit.email = command.email.strip().lower() if command.email else None
    session.flush()
    return unit
