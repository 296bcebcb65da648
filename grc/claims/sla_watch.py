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

import functools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grc.claims import catalogue_cache, notify
from grc.claims.alerts import not_alerted, record_alerts
from grc.claims.catalogue_cache import Catalogue, PolicyValue
from grc.claims.models import RUNNING_STATUSES, Claim, ClaimStatus, Clock
from grc.claims.sla import SlaCalendar, department_calendar, holiday_subdivision, sla_calendar
from grc.db import among_ids
from grc.housing.models import Building, Residence
from grc.messaging.models import Purpose
from grc.messaging.operations import queue_messages
from grc.messaging.rendering import render_email

WARNING_SHARE = 0.8
_BATCH = 500
# SLA time is counted to the microsecond: "at most this much left" is "before this much and
# one microsecond has run".
_TICK = timedelta(microseconds=1)


@dataclass
class WatchReport:
    checked: int = 0
    # Claims warned and claims escalated in this run; messages: the e-mails they made.
    warnings: int = 0
    breaches: int = 0
    messages: int = 0


@dataclass(frozen=True, slots=True)
class _Running:
    """A running claim as the watch reads it: plain values, thousands at a time."""

    id: int
    reference: str
    status: ClaimStatus
    resolution_due: datetime
    sla_clock: Clock
    category_id: int
    unit_id: int
    department_code: str | None
    address: str


def watch_sla(session: Session, now: datetime) -> WatchReport:
    report = WatchReport()
    recipients = notify.StaffRecipients(session)
    catalogue = catalogue_cache.catalogue(session)
    calendars = _Calendars()
    running = Claim.status.in_(RUNNING_STATUSES)

    breached = sa.and_(
        running,
        Claim.resolution_due <= now,
        not_alerted(Purpose.SLA_BREACH, Claim.id, Claim.resolution_due),
    )
    warned = sa.and_(
        running,
        Claim.resolution_due > now,
        _warning_window(session, catalogue, now),
        not_alerted(Purpose.SLA_WARNING, Claim.id, Claim.resolution_due),
    )
    for purpose, condition in ((Purpose.SLA_BREACH, breached), (Purpose.SLA_WARNING, warned)):
        alerts: list[notify.StaffAlert] = []
        for claims in _batches(session, condition):
            report.checked += len(claims)
            if purpose == Purpose.SLA_WARNING:
                claims = [
                    c
                    for c in claims
                    if _warning_reached_on(
                        catalogue,
                        calendars.of(c.department_code),
                        c.category_id,
                        c.resolution_due,
                        c.sla_clock,
                        now,
                    )
                ]
            # A claim with nobody to tell yet is alerted once somebody is.
            by_claim = {c.id: _alerts(purpose, c, catalogue, recipients) for c in claims}
            told = [c for c in claims if by_claim[c.id]]
            # Recorded first: a claim another run has just alerted is left to that run.
            recorded = record_alerts(
                session, purpose, [(c.id, c.resolution_due) for c in told], now
            )
            alerts += [alert for c in told if c.id in recorded for alert in by_claim[c.id]]
            if purpose == Purpose.SLA_BREACH:
                report.breaches += len(recorded)
            else:
                report.warnings += len(recorded)
        messages = notify.staff_alert_messages(purpose, alerts)
        report.messages += len(queue_messages(session, messages, now))
    return report


def _alerts(
    purpose: Purpose,
    claim: _Running,
    catalogue: Catalogue,
    recipients: notify.StaffRecipients,
) -> list[notify.StaffAlert]:
    """The claim's warning to its unit, or its breach escalation to the managers."""
    unit = catalogue.unit(claim.unit_id)
    if purpose == Purpose.SLA_WARNING:
        addresses, list_path = recipients.of_unit(claim.unit_id), f"/unit/{unit.code}"
    else:
        addresses, list_path = recipients.managers(), "/claims"
    category = catalogue.category_by_id(claim.category_id).label("fr")
    context: dict[str, Any] = {
        "reference": claim.reference,
        "category": category,
        "address": claim.address,
        "due": notify.local_datetime_text(claim.resolution_due, "fr"),
        "status": str(claim.status),
        "unit": unit.name,
    }
    line = notify.DigestLine(claim.reference, category, claim.address, claim.resolution_due)
    return [
        notify.StaffAlert(
            recipient=address,
            key=f"claim:{claim.id}:{purpose}:{claim.resolution_due.isoformat()}",
            claim_id=claim.id,
            line=line if purpose == Purpose.SLA_WARNING else replace(line, detail=unit.name),
            email=functools.partial(render_email, purpose, "fr", **context),
            list_path=list_path,
        )
        for address in sorted(set(addresses))
    ]


def _batches(session: Session, condition: sa.ColumnElement[bool]) -> Iterator[list[_Running]]:
    """The claims meeting ``condition``, by id, with what their alerts read, as plain rows.
    Their ids are read first, in one query the index on status and deadline serves (ordered
    and limited, the planner would rather walk every claim by id)."""
    ids = sorted(session.execute(sa.select(Claim.id).where(condition)).scalars())
    for start in range(0, len(ids), _BATCH):
        rows = session.execute(
            sa.select(
                Claim.id,
                Claim.reference,
                Claim.status,
                Claim.resolution_due,
                Claim.sla_clock,
                Claim.category_id,
                Claim.unit_id,
                Residence.department_code,
                Building.street,
                Building.city,
                Building.entrance,
            )
            .join(Residence, Residence.id == Claim.residence_id)
            .join(Building, Building.id == Claim.building_id)
            .where(among_ids(session, Claim.id, ids[start : start + _BATCH]))
            .order_by(Claim.id)
        )
        yield [_Running(*row[:8], address=Building.short_address_of(*row[8:])) for row in rows]


class _Calendars:
    """One SLA calendar per department for the run."""

    def __init__(self) -> None:
        self._by_department: dict[str | None, SlaCalendar] = {}

    def of(self, department_code: str | None) -> SlaCalendar:
        if department_code not in self._by_department:
            self._by_department[department_code] = department_calendar(department_code)
        return self._by_department[department_code]


def near_breach(catalogue: Catalogue, claim: Claim, now: datetime) -> bool:
    """An open claim whose clock runs, not late yet, with at most the warning share's rest of
    its SLA time left: what the watch warns the unit of, and what the queue flags."""
    return (
        claim.status in RUNNING_STATUSES
        and claim.resolution_due >= now
        and _warning_reached(catalogue, claim, now)
    )


def _warning_reached(catalogue: Catalogue, claim: Claim, now: datetime) -> bool:
    return _warning_reached_on(
        catalogue,
        sla_calendar(claim.residence),
        claim.category_id,
        claim.resolution_due,
        claim.sla_clock,
        now,
    )


def _warning_reached_on(
    catalogue: Catalogue,
    calendar: SlaCalendar,
    category_id: int,
    due: datetime,
    clock: Clock,
    now: datetime,
) -> bool:
    policy = catalogue.category_by_id(category_id).effective_policy
    if policy is None:
        return False
    return calendar.elapsed(now, due, clock) <= _warning_left(policy)


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

    windows = []
    latest = now
    for codes in departments_by_calendar.values():
        calendar = department_calendar(codes[0])
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
