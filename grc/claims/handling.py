"""Handling time: from a claim's receipt to its response, and to its resolution, in the
seconds of its clock (the business hours of its residence's calendar, or calendar time),
less the time it waited for the tenant. The SLA report's median and 90th percentile are
over these figures.

Each is measured once, when it happens (``record_response``, ``record_resolution``, called
by the claim's operations), and kept on the claim. Claims responded to or resolved without
a measure (written before it was kept, or imported) are measured in batches by
``measure_unmeasured``, the job ``measure_handling``'s work."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grc.claims.business_time import RunningBusinessTime
from grc.claims.models import UNMEASURED_CONDITION, Claim, ClaimEvent, ClaimStatus, Clock, EventKind
from grc.claims.sla import department_calendar, sla_calendar
from grc.db import epoch_seconds
from grc.housing.models import Residence

# A pause: when the claim began waiting for the tenant, and when it stopped (None: still).
Interval = tuple[float, float | None]


def record_response(session: Session, claim: Claim, now: datetime) -> None:
    """The claim's first response is now (a later one changes nothing)."""
    if claim.responded_at is not None:
        return
    claim.responded_at = now
    claim.response_seconds = _measure(session, claim, now)


def record_resolution(session: Session, claim: Claim, now: datetime) -> None:
    """The claim is resolved now: a resolution is a response too, when none came before
    (then measured once for both: nothing could pause a claim not yet responded to)."""
    claim.resolution_seconds = _measure(session, claim, now)
    claim.resolved_at = now
    if claim.responded_at is None:
        claim.responded_at, claim.response_seconds = now, claim.resolution_seconds


def forget_resolution(claim: Claim) -> None:
    """The claim is reopened: its next resolution is measured from its receipt again."""
    claim.resolved_at = None
    claim.resolution_seconds = None


def _measure(session: Session, claim: Claim, end: datetime) -> int:
    # The claim is half-changed (its status follows): nothing is flushed by the reads here,
    # and its earlier changes were flushed by the operations that made them.
    with session.no_autoflush:
        calendar = sla_calendar(claim.residence)
        pauses = pauses_by_claim(session, [claim.id]).get(claim.id, []) if claim.id else []
    if claim.paused_at is not None:
        pauses = _with_current_pause(pauses, claim.paused_at.timestamp())
    return handling_seconds(
        RunningBusinessTime(calendar),
        claim.sla_clock,
        claim.created_at.timestamp(),
        end.timestamp(),
        pauses,
    )


def _with_current_pause(pauses: list[Interval], paused_at: float) -> list[Interval]:
    """The pause under way, unless the timeline already has it open."""
    if pauses and pauses[-1][1] is None:
        return pauses
    return [*pauses, (paused_at, None)]


def handling_seconds(
    running: RunningBusinessTime,
    clock: Clock | str,
    start: float,
    end: float,
    pauses: Sequence[Interval],
) -> int:
    """Whole seconds of the claim's clock from ``start`` to ``end`` (UTC timestamps), the
    parts of its pauses between the two taken out."""
    spent = running.stamp_seconds(start, end, clock)
    for paused, resumed in pauses:
        spent -= running.stamp_seconds(
            max(paused, start), end if resumed is None else min(resumed, end), clock
        )
    return round(max(spent, 0.0))


def pauses_by_claim(session: Session, claim_ids: Any) -> dict[int, list[Interval]]:
    """Each claim's pauses, from its timeline: entering waiting_tenant opens one, leaving it
    closes it. ``claim_ids``: a list of ids or a subquery giving them."""
    epoch = epoch_seconds(session)
    rows = session.execute(
        sa.select(ClaimEvent.claim_id, epoch(ClaimEvent.created_at), ClaimEvent.to_status)
        .where(
            ClaimEvent.claim_id.in_(claim_ids),
            ClaimEvent.kind == EventKind.STATUS_CHANGED,
            sa.or_(
                ClaimEvent.to_status == ClaimStatus.WAITING_TENANT.value,
                ClaimEvent.from_status == ClaimStatus.WAITING_TENANT.value,
            ),
        )
        .order_by(ClaimEvent.claim_id, ClaimEvent.id)
    )
    found: dict[int, list[Interval]] = defaultdict(list)
    for claim_id, moment, to_status in rows:
        intervals = found[claim_id]
        if to_status == ClaimStatus.WAITING_TENANT.value:
            intervals.append((moment, None))
        elif intervals and intervals[-1][1] is None:
            intervals[-1] = (intervals[-1][0], moment)
    return found


def measure_unmeasured(session: Session, limit: int) -> int:
    """Measure up to ``limit`` claims responded to or resolved without their handling time,
    oldest first; how many were measured. Each figure is written only where it is still
    missing (COALESCE in the update itself), so a claim measured meanwhile by its own
    operation keeps its figure."""
    epoch = epoch_seconds(session)
    rows = session.execute(
        sa.select(
            Claim.id,
            Residence.department_code,
            sa.type_coerce(Claim.sla_clock, sa.String),
            epoch(Claim.created_at),
            epoch(Claim.responded_at),
            epoch(Claim.resolved_at),
            epoch(Claim.paused_at),
            Claim.response_seconds,
            Claim.resolution_seconds,
        )
        .join(Residence, Residence.id == Claim.residence_id)
        .where(sa.text(UNMEASURED_CONDITION))
        .order_by(Claim.id)
        .limit(limit)
    ).all()
    if not rows:
        return 0
    pauses = pauses_by_claim(session, [row[0] for row in rows])
    calendars: dict[str | None, RunningBusinessTime] = {}
    measures: list[dict[str, int | None]] = []
    for claim_id, department, clock, created, responded, resolved, paused_at, *known in rows:
        running = calendars.get(department)
        if running is None:
            running = calendars[department] = RunningBusinessTime(department_calendar(department))
        intervals = pauses.get(claim_id, [])
        if paused_at is not None:
            intervals = _with_current_pause(intervals, paused_at)
        figures: dict[str, int | None] = {"claim_id": claim_id}
        for done, measured, name in (
            (responded, known[0], "measured_response"),
            (resolved, known[1], "measured_resolution"),
        ):
            missing = done is not None and measured is None
            figures[name] = (
                handling_seconds(running, clock, created, done, intervals) if missing else None
            )
        measures.append(figures)
    # One statement per claim, both figures at once: each update of a claim rewrites its
    # index entries, so two would cost twice.
    table = cast("sa.Table", Claim.__table__)  # a mapped class's Table
    session.execute(
        sa.update(table)
        .where(table.c.id == sa.bindparam("claim_id"))
        .values(
            response_seconds=sa.func.coalesce(
                table.c.response_seconds, sa.bindparam("measured_response")
            ),
            resolution_seconds=sa.func.coalesce(
                table.c.resolution_seconds, sa.bindparam("measured_resolution")
            ),
        ),
        measures,
    )
    return len(rows)
