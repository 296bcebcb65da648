"""The SLA watch: warns a claim's unit at 80 % of its resolution time and escalates to the
managers once the deadline has passed, each once per claim and deadline (safe to run twice:
the messages' idempotency keys carry the deadline)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from grc.claims import catalogue_cache, notify
from grc.claims.catalogue_cache import Catalogue
from grc.claims.models import OPEN_STATUSES, Claim, ClaimStatus
from grc.claims.sla import sla_calendar
from grc.messaging.models import Purpose

WARNING_SHARE = 0.8
_BATCH = 500


@dataclass
class WatchReport:
    checked: int = 0
    warnings: int = 0
    breaches: int = 0


def watch_sla(session: Session, now: datetime) -> WatchReport:
    report = WatchReport()
    running = [s for s in OPEN_STATUSES if s != ClaimStatus.WAITING_TENANT]
    last_id = 0
    catalogue = catalogue_cache.catalogue(session)
    while True:
        claims = (
            session.execute(
                sa.select(Claim)
                .where(Claim.status.in_(running), Claim.id > last_id)
                .options(
                    joinedload(Claim.category),
                    joinedload(Claim.residence),
                    joinedload(Claim.unit),
                    joinedload(Claim.building),
                )
                .order_by(Claim.id)
                .limit(_BATCH)
            )
            .unique()
            .scalars()
            .all()
        )
        if not claims:
            return report
        for claim in claims:
            report.checked += 1
            if claim.resolution_due <= now:
                report.breaches += notify.alert_staff(session, claim, Purpose.SLA_BREACH, now)
            elif _warning_reached(catalogue, claim, now):
                report.warnings += notify.alert_staff(session, claim, Purpose.SLA_WARNING, now)
        last_id = claims[-1].id


def _warning_reached(catalogue: Catalogue, claim: Claim, now: datetime) -> bool:
    policy = catalogue.category_by_id(claim.category_id).effective_policy
    if policy is None:
        return False
    left = sla_calendar(claim.residence).elapsed(now, claim.resolution_due, claim.sla_clock)
    return left <= timedelta(hours=policy.resolution_hours) * (1 - WARNING_SHARE)
