"""The SLA watch: warns a claim's unit at 80 % of its resolution time and escalates to the
managers once the deadline has passed, each once per claim and deadline (safe to run twice:
the messages' idempotency keys carry the deadline).

Run every minute over every open claim, it reads only what is due and not yet alerted, in
SQL: a breach is a running claim past its deadline; a warning, one whose deadline falls
before the instant its remaining time drops to the warning share, computed once per run for
each holiday calendar and SLA policy. Each alert sent is recorded (``grc.claims.alerts``), so
a minute with nothing new reads nothing more.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, load_only

from grc.claims import catalogue_cache, notify
from grc.claims.alerts import not_alerted, record_alerts
from grc.claims.catalogue_cache import Catalogue, PolicyValue
from grc.claims.models import OPEN_STATUSES, Claim, ClaimStatus, Clock
from grc.claims.sla import SlaCalendar, holiday_subdivision, sla_calendar
from grc.clock import settings
from grc.db import among_ids
from grc.housing.models import Residence
from grc.messaging.models import Purpose
from grc.messaging.operations import queue_messages
from grc.people.models import Tenant

WARNING_SHARE = 0.8
_BATCH = 500
# SLA time is counted to the microsecond: "at most this much left" is "before this much and
# one microsecond has run".
_TICK = timedelta(microseconds=1)


@dataclass
class WatchReport:
    checked: int = 0
    warnings: int = 0
    breaches: int = 0


def watch_sla(session: Session, now: datetime) -> WatchReport:
    report = WatchReport()
    recipients = notify.StaffRecipients(session)
    catalogue = catalogue_cache.catalogue(session)
    running = Claim.status.in_([s for s in OPEN_STATUSES if s != ClaimStatus.WAITING_TENANT])

    breached = sa.and_(
        running,
        Claim.resolution_due <= now,
        not_alerted(Purpose.SLA_BREACH, Claim.id, Claim.resolution_due),
    )
    for claims in _batches(session, breached):
        report.checked += len(claims)
        alerts = [a for c in claims for a in notify.sla_alerts(c, Purpose.SLA_BREACH, recipients)]
        report.breaches += len(queue_messages(session, alerts, now))
        alerted = {(a.claim.id, a.claim.resolution_due) for a in alerts if a.claim is not None}
        record_alerts(session, Purpose.SLA_BREACH, alerted, now)

    warned = sa.and_(
        running,
        Claim.resolution_due > now,
        _warning_window(session, catalogue, now),
        not_alerted(Purpose.SLA_WARNING, Claim.id, Claim.resolution_due),
    )
    for claims in _batches(session, warned):
        report.checked += len(claims)
        alerts = [
            alert
            for claim in claims
            if _warning_reached(catalogue, claim, now)
            for alert in notify.sla_alerts(claim, Purpose.SLA_WARNING, recipients)
        ]
        report.warnings += len(queue_messages(session, alerts, now))
        alerted = {(a.claim.id, a.claim.resolution_due) for a in alerts if a.claim is not None}
        record_alerts(session, Purpose.SLA_WARNING, alerted, now)
    return report


def _batches(session: Session, condition: sa.ColumnElement[bool]) -> Iterator[list[Claim]]:
    """The claims meeting ``condition``, by id, with what their messages read. Their ids are
    read first, in one query the index on status and deadline serves (ordered and limited,
    the planner would rather walk every claim by id)."""
    ids = sorted(session.execute(sa.select(Claim.id).where(condition)).scalars())
    for start in range(0, len(ids), _BATCH):
        yield list(
            session.execute(
                sa.select(Claim)
                .where(among_ids(session, Claim.id, ids[start : start + _BATCH]))
                .options(
                    # Only what the alerts read (``notify.sla_alerts``, ``_warning_reached``).
                    load_only(
                        Claim.reference,
                        Claim.status,
                        Claim.resolution,
                        Claim.resolution_due,
                        Claim.sla_clock,
                        Claim.appointment_at,
                        Claim.appointment_end,
                        Claim.category_id,
                        Claim.residence_id,
                        Claim.unit_id,
                        Claim.building_id,
                        Claim.tenant_id,
                        Claim.contractor_id,
                    ),
                    joinedload(Claim.category),
                    joinedload(Claim.residence),
                    joinedload(Claim.unit),
                    joinedload(Claim.building),
                    joinedload(Claim.contractor),
                    joinedload(Claim.tenant).load_only(Tenant.first_name, Tenant.last_name),
                )
                .order_by(Claim.id)
            ).scalars()
        )


def near_breach(catalogue: Catalogue, claim: Claim, now: datetime) -> bool:
    """An open claim whose clock runs, not late yet, with at most the warning share's rest of
    its SLA time left: what the watch warns the unit of, and what the queue flags."""
    return (
        claim.is_open
        and claim.status != ClaimStatus.WAITING_TENANT
        and claim.resolution_due >= now
        and _warning_reached(catalogue, claim, now)
    )


def _warning_reached(catalogue: Catalogue, claim: Claim, now: datetime) -> bool:
    policy = catalogue.category_by_id(claim.category_id).effective_policy
    if policy is None:
        return False
    left = sla_calendar(claim.residence).elapsed(now, claim.resolution_due, claim.sla_clock)
    return left <= _warning_left(policy)


def _warning_left(policy: PolicyValue) -> timedelta:
    return timedelta(hours=policy.resolution_hours) * (1 - WARNING_SHARE)


def _warning_window(
    session: Session, catalogue: Catalogue, now: datetime
) -> sa.ColumnElement[bool]:
    """True for a claim whose SLA time left is at most the warning share of its policy's, as
    ``_warning_reached`` says: SLA time left only grows with the deadline, so for each holiday
    calendar, policy and clock this is a deadline before one instant (and the index on
    status and deadline serves it)."""
    categories_by_policy: dict[int, tuple[PolicyValue, list[int]]] = {}
    for category in catalogue.categories():
        policy = category.effective_policy
        if policy is not None:
            categories_by_policy.setdefault(policy.id, (policy, []))[1].append(category.id)
    departments_by_calendar: dict[str | None, list[str]] = {}
    for code in session.execute(sa.select(Residence.department_code).distinct()).scalars():
        departments_by_calendar.setdefault(holiday_subdivision(code), []).append(code)

    config = settings()
    windows = []
    latest = now
    for codes in departments_by_calendar.values():
        calendar = SlaCalendar(codes[0], config.business_hours, config.tz)
        in_departments = Residence.department_code.in_(codes)
        for policy, category_ids in categories_by_policy.values():
            for clock in Clock:
                before = calendar.add(now, _warning_left(policy) + _TICK, clock)
                latest = max(latest, before)
                windows.append(
                    sa.and_(
                        in_departments,
                        Claim.category_id.in_(category_ids),
                        Claim.sla_clock == clock,
                        Claim.resolution_due < before,
                    )
                )
    if not windows:
        return sa.false()
    in_window = sa.exists().where(Residence.id == Claim.residence_id, sa.or_(*windows))
    return sa.and_(Claim.resolution_due < latest, in_window)
