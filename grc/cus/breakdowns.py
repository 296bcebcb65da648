"""Lift breakdowns as episodes, computed from plain rows without the database.

A breakdown of a lift opens with the first claim on that lift. Every further claim on the
same lift created while the breakdown is open (a duplicate registered anyway, a claim
for another symptom) belongs to it, and so do the calls attached to any of its claims:
the breakdown counts once, whatever the number of calls. It ends when the last of its
claims is resolved: a claim created before that moment extends it to its own resolution.
A breakdown with a claim still unresolved is open; its duration is counted up to ``now``.

A breakdown belongs to the year (in the landlord's time zone) in which its first claim
was created, with its whole duration, even when it ends in the next year. Durations are
real (calendar) hours: the lift is out of service at night and on Sundays too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

# The CUS counts breakdowns lasting more than this.
LONG_BREAKDOWN = timedelta(hours=4)


@dataclass(frozen=True)
class LiftClaim:
    """One claim on a lift, as read: when it was created and resolved (None: not yet), and
    how many further calls were attached to it."""

    lift_id: int
    claim_id: int
    created_at: datetime
    resolved_at: datetime | None
    attached_calls: int = 0


@dataclass(frozen=True)
class Breakdown:
    lift_id: int
    started_at: datetime
    # None while one of its claims is unresolved.
    ended_at: datetime | None
    claim_ids: tuple[int, ...]
    # Its claims and the calls attached to them: how many times tenants reported it.
    calls: int

    def duration(self, now: datetime) -> timedelta:
        """Real time from the first claim to the last resolution (to ``now`` while open)."""
        return (self.ended_at or now) - self.started_at

    def is_long(self, now: datetime) -> bool:
        """More than 4 hours: an open breakdown counts once it has lasted that long."""
        return self.duration(now) > LONG_BREAKDOWN


def episodes(claims: Iterable[LiftClaim]) -> Iterator[Breakdown]:
    """The breakdowns of ``claims``, given ordered by lift then creation time (the order
    the query reads them in; checked, since a wrong order would split breakdowns)."""
    current: list[LiftClaim] = []
    end: datetime | None = None
    open_claim = False
    for claim in claims:
        if current:
            previous = current[-1]
            if (claim.lift_id, claim.created_at) < (previous.lift_id, previous.created_at):
                raise ValueError("lift claims must come ordered by lift, then creation time")
            same_breakdown = claim.lift_id == previous.lift_id and (
                open_claim or (end is not None and claim.created_at < end)
            )
            if not same_breakdown:
                yield _breakdown(current, None if open_claim else end)
                current, end, open_claim = [], None, False
        current.append(claim)
        if claim.resolved_at is None:
            open_claim = True
        elif end is None or claim.resolved_at > end:
            end = claim.resolved_at
    if current:
        yield _breakdown(current, None if open_claim else end)


def extend(breakdown: Breakdown, later: Iterable[LiftClaim]) -> Breakdown:
    """``breakdown`` with the claims on its lift created after those it holds and before it
    ended (given in creation order; later ones are ignored): a breakdown that runs past the
    year's end may be prolonged by claims of the next year."""
    end, claim_ids, calls = breakdown.ended_at, list(breakdown.claim_ids), breakdown.calls
    for claim in later:
        if end is None or claim.created_at >= end:
            break
        if claim.lift_id != breakdown.lift_id:
            raise ValueError("a breakdown is extended by claims on its own lift")
        claim_ids.append(claim.claim_id)
        calls += 1 + claim.attached_calls
        if claim.resolved_at is None:
            end = None
        elif claim.resolved_at > end:
            end = claim.resolved_at
    return Breakdown(breakdown.lift_id, breakdown.started_at, end, tuple(claim_ids), calls)


def _breakdown(claims: list[LiftClaim], ended_at: datetime | None) -> Breakdown:
    return Breakdown(
        lift_id=claims[0].lift_id,
        started_at=claims[0].created_at,
        ended_at=ended_at,
        claim_ids=tuple(claim.claim_id for claim in claims),
        calls=sum(1 + claim.attached_calls for claim in claims),
    )


@dataclass(frozen=True)
class BreakdownCount:
    """One year's breakdowns started in an agency (or the whole landlord)."""

    breakdowns: int
    long_breakdowns: int
    calls: int
    lifts: int

    @property
    def long_per_lift(self) -> float | None:
        """The CUS indicator: breakdowns over 4 hours per lift (None without a lift)."""
        return self.long_breakdowns / self.lifts if self.lifts else None


def count_by_group(
    breakdowns: Iterable[Breakdown],
    group_of_lift: dict[int, int],
    lifts_by_group: dict[int, int],
    start: datetime,
    end: datetime,
    now: datetime,
) -> dict[int, BreakdownCount]:
    """Per group (an agency), the breakdowns that started in [start, end): how many, how
    many over 4 hours, the calls they drew, and the group's lifts. Every group of
    ``lifts_by_group`` is in the answer, with zeros when nothing broke down; a lift of no
    group is left out."""
    counts = {group: [0, 0, 0] for group in lifts_by_group}
    for breakdown in breakdowns:
        if not start <= breakdown.started_at < end:
            continue
        group = group_of_lift.get(breakdown.lift_id)
        if group is None:
            continue
        figures = counts.setdefault(group, [0, 0, 0])
        figures[0] += 1
        figures[1] += breakdown.is_long(now)
        figures[2] += breakdown.calls
    return {
        group: BreakdownCount(total, long, calls, lifts_by_group.get(group, 0))
        for group, (total, long, calls) in counts.items()
    }


def total(counts: Iterable[BreakdownCount]) -> BreakdownCount:
    """The whole landlord: the sum of its agencies (the per-lift figure of the sums, not the
    mean of the agencies' figures)."""
    rows = list(counts)
    return BreakdownCount(
        breakdowns=sum(row.breakdowns for row in rows),
        long_breakdowns=sum(row.long_breakdowns for row in rows),
        calls=sum(row.calls for row in rows),
        lifts=sum(row.lifts for row in rows),
    )
