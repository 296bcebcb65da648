"""A year of the demo's claims, created through the product's own operations so routing,
SLA deadlines and timelines are what the application would have produced.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grc.claims.lifecycle import Action
from grc.claims.models import (
    Category,
    Claim,
    ClaimEvent,
    ClaimStatus,
    Clock,
    IntakeChannel,
    LocationKind,
    RouteKind,
    TreatmentUnit,
    Visibility,
)
from grc.claims.operations import NewClaim, TransitionRequest, add_comment, create_claim
from grc.claims.operations import transition_claim as _transition
from grc.contracts.models import OPEN_WORK_ORDER_STATUSES, WorkOrder
from grc.contracts.updates import ContractorUpdate, UpdateOutcome, apply_contractor_update
from grc.contracts.work_orders import open_work_order_for_claim
from grc.db import rows_changed
from grc.demo.organisation import Users
from grc.demo.reference import (
    CANCEL_REASONS,
    CATEGORY_WEIGHTS,
    CONTRACTOR_BEHAVIOUR,
    DESCRIPTIONS,
    FCR_ANSWERS,
    FCR_GENERIC,
    RESOLUTIONS,
    ContractorBehaviour,
)
from grc.demo.satisfaction import SurveyHistory, survey_summary
from grc.demo.stock import Stock
from grc.messaging.models import DeliveryStatus, OutboxMessage
from grc.people.models import User

DEMO_PROVIDER = "demo"
CLAIMS_PER_COMMIT = 500

# Heating breaks down in winter, green spaces grow in summer, charges are reconciled in spring.
_WINTER, _SUMMER = {11, 12, 1, 2, 3}, {6, 7, 8}
SEASONS: dict[str, Callable[[int], float]] = {
    "CHF": lambda m: 2.2 if m in _WINTER else 0.3 if m in _SUMMER else 1.0,
    "VMC-HUMIDITE": lambda m: 1.8 if m in _WINTER else 0.5 if m in _SUMMER else 1.0,
    "EXT-ESPACES-VERTS": lambda m: 2.5 if 4 <= m <= 9 else 0.2,
    "LOC-CHARGES": lambda m: 3.0 if 4 <= m <= 6 else 0.6,
    "VOI-BRUIT": lambda m: 1.5 if m in _SUMMER else 1.0,
}


@dataclass(frozen=True)
class _CategoryInfo:
    code: str
    domain: str
    location: LocationKind
    equipment_kind: str | None
    urgent: bool
    fcr_possible: bool


@dataclass(frozen=True)
class _PlannedClaim:
    at: datetime
    category: _CategoryInfo
    channel: IntakeChannel
    command: NewClaim


def _catalogue(session: Session) -> list[_CategoryInfo]:
    rows = (
        session.execute(
            sa.select(Category)
            .where(Category.active, Category.location_kind.is_not(None))
            .order_by(Category.code)
        )
        .scalars()
        .all()
    )
    return [
        _CategoryInfo(
            code=c.code,
            domain=c.parent.code if c.parent else c.code,
            location=c.location_kind,
            equipment_kind=c.equipment_kind,
            urgent=c.sla_policy is not None and c.sla_policy.clock == Clock.CALENDAR,
            fcr_possible=c.fcr_possible,
        )
        for c in rows
        if c.location_kind is not None
    ]


def _category_weight(info: _CategoryInfo, month: int) -> float:
    weight = float(CATEGORY_WEIGHTS.get(info.code, 1.0))
    season = SEASONS.get(info.code) or SEASONS.get(info.domain)
    return weight * season(month) if season else weight


def _channel(rng: random.Random, info: _CategoryInfo) -> IntakeChannel:
    if info.urgent:
        options = {"phone": 85, "app": 8, "web": 5, "desk": 2}
    elif info.domain in ("LOC", "SOC"):
        options = {"phone": 45, "web": 25, "app": 10, "email": 15, "letter": 3, "desk": 2}
    else:
        options = {"phone": 55, "web": 15, "app": 17, "email": 8, "desk": 4, "letter": 1}
    return IntakeChannel(rng.choices(list(options), list(options.values()))[0])


def _local_moment(
    rng: random.Random, day: date, channel: IntakeChannel, urgent: bool, tz: ZoneInfo
) -> datetime:
    online = channel in (IntakeChannel.WEB, IntakeChannel.APP)
    if online or (urgent and rng.random() < 0.3):
        # Portals and the on-call line are open day and night, busiest in the evening.
        hour = rng.choices(
            range(24),
            (1, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 9, 7, 8, 9, 9, 9, 10, 11, 11, 10, 8, 5, 3),
        )[0]
        minute = rng.randrange(60)
    elif rng.random() < 0.6:
        # The call centre's two daily peaks.
        start = rng.choice((9 * 60, 14 * 60))
        minute_of_day = start + rng.randrange(150)
        hour, minute = divmod(minute_of_day, 60)
    else:
        hour, minute = divmod(8 * 60 + 30 + rng.randrange(9 * 60), 60)
    return datetime(day.year, day.month, day.day, hour, minute, rng.randrange(60), tzinfo=tz)


def _plan_claims(
    rng: random.Random,
    count: int,
    anchor: datetime,
    tz: ZoneInfo,
    catalogue: list[_CategoryInfo],
    stock: Stock,
    agents: list[int],
) -> list[tuple[_PlannedClaim, int | None]]:
    anchor_day = anchor.astimezone(tz).date()
    days = [anchor_day - timedelta(days=d) for d in range(1, 366)]
    day_weights = [
        (1.0, 1.05, 0.95, 0.95, 0.9, 0.3, 0.15)[d.weekday()] * (1.15 if d.month in _WINTER else 1.0)
        for d in days
    ]
    weights_by_month = {m: [_category_weight(c, m) for c in catalogue] for m in range(1, 13)}
    occupied = [d for d in stock.dwellings if d.leases]
    planned: list[tuple[_PlannedClaim, int | None]] = []
    while len(planned) < count:
        day = rng.choices(days, day_weights)[0]
        info = rng.choices(catalogue, weights_by_month[day.month])[0]
        if info.equipment_kind and not stock.equipment_by_kind.get(info.equipment_kind):
            continue
        channel = _channel(rng, info)
        if (
            day.weekday() >= 5
            and not info.urgent
            and channel not in (IntakeChannel.WEB, IntakeChannel.APP)
        ):
            channel = rng.choice((IntakeChannel.WEB, IntakeChannel.APP))
        at = _local_moment(rng, day, channel, info.urgent, tz).astimezone(UTC)
        location: dict[str, Any] = {}  # NewClaim's location keywords (ids)
        tenant_id: int | None = None
        if info.location == LocationKind.DWELLING:
            dwelling = rng.choice(occupied)
            if dwelling.tenant_on(day) is None:
                continue  # nobody lived there that day
            location["dwelling_id"] = dwelling.id  # the product finds the occupant itself
        elif info.location == LocationKind.EQUIPMENT:
            equipment_id, building_id = rng.choice(
                stock.equipment_by_kind[info.equipment_kind or ""]
            )
            location["equipment_id"] = equipment_id
            tenant_id = _caller(rng, stock, building_id, day)
        else:
            dwelling = rng.choice(occupied)
            tenant_id = dwelling.tenant_on(day)
            if rng.random() < 0.6 and tenant_id is not None:
                location["dwelling_id"] = dwelling.id  # a caller names their own dwelling
            else:
                location["building_id"] = dwelling.building_id
        # Only what can be answered on the phone is resolved during the call (the catalogue's
        # fcr_possible); a leak or a broken lift always needs someone on site.
        fcr = (
            info.fcr_possible
            and channel in (IntakeChannel.PHONE, IntakeChannel.DESK)
            and rng.random() < 0.9
        )
        resolution = None
        if fcr:
            resolution = FCR_ANSWERS.get(info.code) or rng.choice(FCR_GENERIC)
        text = DESCRIPTIONS.get(info.code) or (f"Réclamation : {info.code}.",)
        command = NewClaim(
            category=info.code,
            channel=channel,
            description=rng.choice(text),
            tenant_id=tenant_id,
            resolve_now=fcr,
            resolution=resolution,
            **location,
        )
        actor = None if channel in (IntakeChannel.WEB, IntakeChannel.APP) else rng.choice(agents)
        planned.append((_PlannedClaim(at, info, channel, command), actor))
    planned.sort(key=lambda p: p[0].at)
    return planned


def _caller(rng: random.Random, stock: Stock, building_id: int, day: date) -> int | None:
    if rng.random() < 0.4:
        return None  # reported by the caretaker or a passer-by
    dwelling_id = rng.choice(stock.building_dwellings[building_id])
    return stock.dwelling_by_id[dwelling_id].tenant_on(day)


def load_claims(
    session: Session,
    count: int,
    rng: random.Random,
    anchor: datetime,
    tz: ZoneInfo,
    stock: Stock,
    users: Users,
    echo: Callable[[str], Any],
) -> list[str]:
    if count <= 0:
        return ["Claims: none requested."]
    catalogue = _catalogue(session)
    planned = _plan_claims(rng, count, anchor, tz, catalogue, stock, users.agents)
    statuses: Counter[str] = Counter()
    phone_total = phone_fcr = to_contractor = messages = 0
    surveys = SurveyHistory(session, rng, anchor)
    lifecycle = _Lifecycle(session, rng, anchor, tz, users, surveys)
    for i, (plan, actor_id) in enumerate(planned, start=1):
        actor = session.get(User, actor_id) if actor_id else None
        claim = create_claim(session, plan.command, actor, now=plan.at)
        lifecycle.advance(claim, plan)
        statuses[str(claim.status)] += 1
        to_contractor += claim.route_kind == RouteKind.CONTRACTOR
        if plan.channel == IntakeChannel.PHONE:
            phone_total += 1
            phone_fcr += claim.first_contact_resolution
        if i % CLAIMS_PER_COMMIT == 0 or i == len(planned):
            surveys.write()
            messages += _settle_history_messages(session)
            session.commit()
            session.expunge_all()
            echo(f"  … {i:,} / {len(planned):,} claims")
    events = session.execute(sa.select(sa.func.count(ClaimEvent.id))).scalar_one()
    order = [s.value for s in ClaimStatus]
    return [
        f"Claims: {len(planned):,} over 12 months, {events:,} timeline events; "
        + ", ".join(f"{s} {statuses[s]:,}" for s in order if statuses[s])
        + ".",
        f"Routing: {to_contractor / len(planned):.0%} to contractors under contract; "
        f"first-contact resolution {phone_fcr / max(1, phone_total):.0%} of phone claims.",
        f"Messages: {messages:,} tenant and staff notifications of that history, recorded as "
        f"sent by the '{DEMO_PROVIDER}' provider: none is handed to a real one.",
        survey_summary(session, surveys.reopened),
    ]


def _settle_history_messages(session: Session) -> int:
    """Record the notifications the operations queued for the backfilled history as sent.

    They belong to the past the demo invents: left pending, the outbox would text and e-mail
    them now (the phone numbers are random, real-looking ones). Done before the batch's
    commit, so the hand-over after it finds them final and sends nothing.
    """
    result = session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.status == DeliveryStatus.PENDING)
        .values(
            status=DeliveryStatus.SENT,
            provider=DEMO_PROVIDER,
            provider_id=sa.literal("demo-") + sa.cast(OutboxMessage.id, sa.String),
            attempts=1,
            handed_at=OutboxMessage.available_at,
            sent_at=OutboxMessage.available_at,
        )
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result)


class _Lifecycle:
    """Moves a freshly created claim along its life as real staff would have, up to today."""

    def __init__(
        self,
        session: Session,
        rng: random.Random,
        anchor: datetime,
        tz: ZoneInfo,
        users: Users,
        surveys: SurveyHistory,
    ) -> None:
        self.session, self.rng, self.anchor, self.tz, self.users = session, rng, anchor, tz, users
        self.surveys = surveys

    def _unit_user(self, claim: Claim) -> User:
        return self.session.get_one(User, self.users.by_unit[claim.unit_id])

    def _agent(self) -> User:
        return self.session.get_one(User, self.rng.choice(self.users.agents))

    def _working(self, moment: datetime) -> datetime:
        """The same moment, or the next working-hours one: staff act during office hours."""
        local = moment.astimezone(self.tz)
        for _ in range(10):
            opens = local.replace(hour=8, minute=30, second=0, microsecond=0)
            closes = local.replace(hour=17, minute=30, second=0, microsecond=0)
            if local.weekday() < 5 and opens <= local < closes:
                return local.astimezone(UTC)
            if local.weekday() < 5 and local < opens:
                local = opens + timedelta(minutes=self.rng.randrange(90))
                continue
            following = (local + timedelta(days=1)).replace(hour=0, minute=0)
            local = following.replace(hour=8, minute=30) + timedelta(minutes=self.rng.randrange(90))
        return local.astimezone(UTC)

    def _act(
        self,
        claim: Claim,
        action: Action,
        at: datetime,
        actor: User,
        comment: str | None = None,
        unit_id: int | None = None,
    ) -> bool:
        if at >= self.anchor:
            return False
        if claim.status == ClaimStatus.WAITING_TENANT:
            # The question left days ago in the story the demo tells, not when the batch is
            # settled: record it sent before the claim moves on, or it would be withdrawn.
            _settle_history_messages(self.session)
        _transition(self.session, claim, TransitionRequest(action, comment, unit_id), actor, now=at)
        return True

    def advance(self, claim: Claim, plan: _PlannedClaim) -> None:
        rng, created = self.rng, plan.at
        contractor = claim.contractor
        behaviour = CONTRACTOR_BEHAVIOUR.get(contractor.code) if contractor is not None else None
        text = RESOLUTIONS.get(plan.category.domain, ("Traité.",))
        if claim.status == ClaimStatus.RESOLVED:  # first-contact resolution
            self._after_resolution(claim, created, behaviour, text, may_reopen=False)
            return
        urgent = claim.sla_clock == Clock.CALENDAR
        when = (lambda t: t) if urgent else self._working
        response_span = claim.response_due - created
        resolution_span = claim.resolution_due - created

        r = rng.random()
        if r < 0.03:
            self._act(
                claim,
                Action.CANCEL,
                created + timedelta(minutes=rng.randint(20, 2880)),
                self._agent(),
                rng.choice(CANCEL_REASONS),
            )
            return
        t = created
        if r < 0.06 and claim.route_kind == RouteKind.UNIT:
            other = self._other_unit(claim)
            t = when(created + timedelta(minutes=rng.randint(15, 600)))
            if other is None or not self._act(
                claim,
                Action.ASSIGN,
                t,
                self._unit_user(claim),
                "Ne relève pas de notre service.",
                other,
            ):
                return

        # A contractor takes its order on (and later reports it done) by reply or link, as
        # punctually as it does: its rating is computed from these moments.
        order = self._open_order(claim) if behaviour is not None else None
        if order is not None and behaviour is not None:
            t = max(
                t + timedelta(minutes=1),
                self._order_moment(
                    order.created_at, order.acknowledge_due, behaviour.acknowledged_on_time
                ),
            )
            if not self._contractor(order, "acknowledged", t, "Bien reçu, nous prenons en charge."):
                return
        else:
            t = max(
                t + timedelta(minutes=1),
                when(created + response_span * rng.lognormvariate(math.log(0.45), 0.7)),
            )
            if not self._act(claim, Action.START, t, self._unit_user(claim)):
                return
        if contractor is not None:
            visit = self._working(t + timedelta(hours=rng.randint(2, 30))).astimezone(self.tz)
            if t < self.anchor:
                add_comment(
                    self.session,
                    claim,
                    f"{contractor.name} interviendra le {visit:%d/%m} vers {visit:%H}h.",
                    Visibility.TENANT,
                    self._unit_user(claim),
                    now=t,
                )

        resolve_at = created + resolution_span * rng.lognormvariate(math.log(0.55), 0.6)
        if rng.random() < 0.07:
            paused = t + timedelta(minutes=rng.randint(30, 2000))
            if not self._act(
                claim,
                Action.WAIT_TENANT,
                when(paused),
                self._unit_user(claim),
                "Logement inaccessible : en attente des disponibilités du locataire.",
            ):
                return
            pause = timedelta(days=rng.uniform(1, 14))
            back = when(paused + pause)
            if back >= self.anchor and back - paused > timedelta(days=45):
                self._act(
                    claim,
                    Action.CANCEL,
                    when(paused + timedelta(days=45)),
                    self._unit_user(claim),
                    "Sans nouvelles du locataire depuis 45 jours.",
                )
                return
            if not self._act(
                claim,
                Action.RESUME,
                back,
                self._unit_user(claim),
                "Le locataire a rappelé pour fixer un rendez-vous.",
            ):
                return
            resolve_at = max(resolve_at, back) + pause
            t = back
        if order is not None and behaviour is not None:
            resolve_at = max(
                t + timedelta(minutes=5),
                self._order_moment(
                    order.created_at, order.complete_due, behaviour.completed_on_time
                ),
            )
            if not self._contractor(order, "done", resolve_at, rng.choice(text)):
                return
        else:
            resolve_at = max(t + timedelta(minutes=5), when(resolve_at))
            if not self._act(
                claim, Action.RESOLVE, resolve_at, self._unit_user(claim), rng.choice(text)
            ):
                return
        self._after_resolution(claim, resolve_at, behaviour, text, may_reopen=True)

    def _after_resolution(
        self,
        claim: Claim,
        resolved_at: datetime,
        behaviour: ContractorBehaviour | None,
        text: tuple[str, ...],
        *,
        may_reopen: bool,
    ) -> None:
        """The resolution's survey, a reopening (the tenant answers "pas fait", or calls
        back), the second resolution and its survey, then the closing."""
        reopened_at = self.surveys.settle(claim, behaviour)
        reopen_share = behaviour.reopen if behaviour is not None else 0.03
        if reopened_at is None and may_reopen and self.rng.random() < reopen_share:
            reopened_at = resolved_at + timedelta(days=self.rng.uniform(1, 6))
            if not self._act(
                claim,
                Action.REOPEN,
                reopened_at,
                self._agent(),
                "Le locataire signale que le problème persiste.",
            ):
                return
        if reopened_at is not None:
            again = self._resolve_again(claim, reopened_at, behaviour, text)
            if again is None:
                return
            self.surveys.settle(claim, behaviour, may_reopen=False)
            resolved_at = again
        self._close(claim, resolved_at)

    def _resolve_again(
        self,
        claim: Claim,
        reopened_at: datetime,
        behaviour: ContractorBehaviour | None,
        text: tuple[str, ...],
    ) -> datetime | None:
        """The reopened claim resolved again: by its contractor when the reopening sent it a
        new order (a survey's "pas fait"), else by the unit; when, or None if not yet."""
        order = self._open_order(claim) if behaviour is not None else None
        if order is not None and behaviour is not None:
            ack = max(
                reopened_at + timedelta(minutes=1),
                self._order_moment(
                    order.created_at, order.acknowledge_due, behaviour.acknowledged_on_time
                ),
            )
            if not self._contractor(order, "acknowledged", ack, "Nous repassons."):
                return None
            done = max(
                ack + timedelta(minutes=5),
                self._order_moment(
                    order.created_at, order.complete_due, behaviour.completed_on_time
                ),
            )
            if not self._contractor(order, "done", done, self.rng.choice(text)):
                return None
            return done
        again = self._working(reopened_at + timedelta(days=self.rng.uniform(0.5, 4)))
        if not self._act(
            claim, Action.RESOLVE, again, self._unit_user(claim), self.rng.choice(text)
        ):
            return None
        return again

    def _open_order(self, claim: Claim) -> WorkOrder | None:
        order = open_work_order_for_claim(self.session, claim.id)
        return order if order is not None and order.status in OPEN_WORK_ORDER_STATUSES else None

    def _order_moment(self, sent: datetime, due: datetime, on_time_share: float) -> datetime:
        """When the contractor acts on an order: within its deadline as often as it keeps
        them, else late by up to one and a half times the time it was given."""
        if self.rng.random() < on_time_share:
            factor = self.rng.uniform(0.2, 0.95)
        else:
            factor = self.rng.uniform(1.1, 2.5)
        return sent + (due - sent) * factor

    def _contractor(self, order: WorkOrder, kind: str, at: datetime, words: str) -> bool:
        """The contractor's reply on its order (taken on, done), moving the claim as the
        product does; False if that moment is not past yet."""
        if at >= self.anchor:
            return False
        outcome = apply_contractor_update(self.session, order, ContractorUpdate(kind, words), at)
        return outcome == UpdateOutcome.APPLIED

    def _close(self, claim: Claim, resolved_at: datetime) -> None:
        # Closed once the satisfaction survey window is over; a few stay resolved a while.
        if self.rng.random() < 0.95:
            at = self._working(resolved_at + timedelta(days=self.rng.uniform(8, 21)))
            self._act(claim, Action.CLOSE, at, self._unit_user(claim))

    def _other_unit(self, claim: Claim) -> int | None:
        unit = claim.unit
        wanted = "proximite" if unit.kind != "proximite" else "technique"
        return self.session.execute(
            sa.select(TreatmentUnit.id).where(
                TreatmentUnit.kind == wanted, TreatmentUnit.agency_id == claim.agency_id
            )
        ).scalar_one_or_none()
