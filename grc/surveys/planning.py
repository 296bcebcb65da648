"""Planning a claim's survey when it is resolved, and withdrawing it when the claim is
reopened or cancelled before it left. ``grc.claims.operations`` calls these, in the
transaction of the resolution (every path: the unit, the API, the contractor's reply or
link, the call centre's first-contact resolution). They flush nothing themselves: the
survey row is written with one idempotent INSERT."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from grc.claims.models import Claim, ClaimEvent, ClaimStatus, EventKind
from grc.claims.notify import tenant_channel
from grc.clock import settings
from grc.contracts.models import WorkOrder, WorkOrderStatus
from grc.messaging.operations import after_quiet_hours
from grc.surveys.models import Survey, SurveyStatus


def plan_survey(session: Session, claim: Claim, now: datetime) -> int | None:
    """Plan the survey of the claim's latest resolution (its id), or None: no tenant, no
    electronic channel open to them (letters), or this resolution has one already."""
    tenant = claim.tenant
    if tenant is None:
        return None
    route = tenant_channel(tenant)
    if route is None:
        return None
    channel, recipient = route
    config = settings()
    planned_for = after_quiet_hours(
        now + timedelta(minutes=config.survey_delay_minutes), config.quiet_hours, config.tz
    )
    values = {
        "claim_id": claim.id,
        "resolution_number": _resolution_number(session, claim),
        "tenant_id": tenant.id,
        "contractor_id": _contractor_who_worked(session, claim),
        "channel": channel,
        "recipient": recipient,
        "locale": tenant.locale or "fr",
        "status": SurveyStatus.PLANNED,
        "planned_for": planned_for,
        "not_done": False,
        "needs_person": False,
        "created_at": now,
    }
    with session.no_autoflush:
        return cast(
            "int | None",
            session.execute(_insert(session.get_bind().dialect.name), values).scalar(),
        )


def cancel_planned(session: Session, claim: Claim, now: datetime) -> int:
    """The claim was reopened or cancelled: its surveys not sent yet are withdrawn; how many."""
    result = session.execute(
        sa.update(Survey)
        .where(Survey.claim_id == claim.id, Survey.status == SurveyStatus.PLANNED)
        .values(status=SurveyStatus.CANCELLED, cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _resolution_number(session: Session, claim: Claim) -> int:
    """How many times the claim has been resolved, this time included (its timeline's
    status changes to resolved, the one just written among them)."""
    with session.no_autoflush:
        count = session.execute(
            sa.select(sa.func.count())
            .select_from(ClaimEvent)
            .where(
                ClaimEvent.claim_id == claim.id,
                ClaimEvent.kind == EventKind.STATUS_CHANGED,
                ClaimEvent.to_status == str(ClaimStatus.RESOLVED),
            )
        ).scalar_one()
    return max(1, int(count))


def _contractor_who_worked(session: Session, claim: Claim) -> int | None:
    """The contractor of the claim's latest finished work order, else of its route."""
    with session.no_autoflush:
        done = session.execute(
            sa.select(WorkOrder.contractor_id)
            .where(WorkOrder.claim_id == claim.id, WorkOrder.status == WorkOrderStatus.DONE)
            .order_by(WorkOrder.id.desc())
            .limit(1)
        ).scalar_one_or_none()
    return done if done is not None else claim.contractor_id


@functools.cache
def _insert(dialect: str) -> ReturningInsert[Any]:
    table = cast("sa.Table", Survey.__table__)  # a mapped class's Table
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return insert.on_conflict_do_nothing(
        index_elements=["claim_id", "resolution_number"]
    ).returning(table.c.id)
