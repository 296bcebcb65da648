"""What the indicators read, as plain rows: the lifts and their agencies, a year's claims on
the lifts (streamed, in the order the episodes need), the claims' response figures per
agency. Nothing here loads an ORM object."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grc.claims.models import Claim, ClaimCaller, ClaimStatus
from grc.cus.breakdowns import LiftClaim
from grc.housing.models import Agency, Building, Equipment, EquipmentKind, Residence

# Rows fetched at a time from the lift claims (a large landlord's year: tens of thousands).
BATCH = 2_000


@dataclass(frozen=True)
class AgencyRow:
    id: int
    code: str
    name: str


def agencies(session: Session) -> list[AgencyRow]:
    rows = session.execute(sa.select(Agency.id, Agency.code, Agency.name).order_by(Agency.code))
    return [AgencyRow(*row) for row in rows]


def lift_agencies(session: Session) -> dict[int, int]:
    """Every lift's agency (through its building and residence), by lift id.

    The housing stock keeps no commissioning or removal date: the lifts counted are those
    in the stock when the figures are computed."""
    rows = session.execute(
        sa.select(Equipment.id, Residence.agency_id)
        .join(Building, Building.id == Equipment.building_id)
        .join(Residence, Residence.id == Building.residence_id)
        .where(Equipment.kind == EquipmentKind.ELEVATOR)
    )
    return {row[0]: row[1] for row in rows}


def lift_claims(session: Session, start: datetime, end: datetime) -> Iterator[LiftClaim]:
    """The claims on lifts that matter for breakdowns started in [start, end), by lift and
    creation time: those created in it, and those created before it but still unresolved
    at its start (which may hold a breakdown started earlier open into the year, so that
    its claims of the year start no breakdown of their own). Cancelled claims report no
    breakdown (a mistake, or a duplicate whose breakdown its other claim records)."""
    stmt = (
        _lift_claim_columns()
        .join(Equipment, Equipment.id == Claim.equipment_id)
        .where(
            Equipment.kind == EquipmentKind.ELEVATOR,
            # Said outright so that the index scan skips the claims on no equipment.
            Claim.equipment_id.is_not(None),
            Claim.status != ClaimStatus.CANCELLED,
            Claim.created_at < end,
            sa.or_(
                Claim.created_at >= start,
                Claim.resolved_at.is_(None),
                Claim.resolved_at > start,
            ),
        )
        .order_by(Claim.equipment_id, Claim.created_at, Claim.id)
        .execution_options(yield_per=BATCH)
    )
    for row in session.execute(stmt):
        yield _lift_claim(row)


def later_lift_claims(
    session: Session, lift_id: int, after: datetime, before: datetime
) -> list[LiftClaim]:
    """The claims on a lift created in [after, before), in creation order, cancelled ones
    left out: those that may prolong a breakdown running past the year's end."""
    stmt = (
        _lift_claim_columns()
        .where(
            Claim.equipment_id == lift_id,
            Claim.status != ClaimStatus.CANCELLED,
            Claim.created_at >= after,
            Claim.created_at < before,
        )
        .order_by(Claim.created_at, Claim.id)
    )
    return [_lift_claim(row) for row in session.execute(stmt)]


_LiftClaimRow = tuple[int | None, int, datetime, datetime | None, int]


def _lift_claim(row: Sequence[Any]) -> LiftClaim:
    lift_id, claim_id, created_at, resolved_at, attached_calls = row
    # Selected through a join on the equipment: never None here.
    return LiftClaim(int(lift_id or 0), claim_id, created_at, resolved_at, attached_calls)


def _lift_claim_columns() -> sa.Select[_LiftClaimRow]:
    attached = (
        sa.select(sa.func.count(ClaimCaller.id))
        .where(ClaimCaller.claim_id == Claim.id)
        .scalar_subquery()
    )
    return sa.select(Claim.equipment_id, Claim.id, Claim.created_at, Claim.resolved_at, attached)


@dataclass(frozen=True)
class ResponseCount:
    """The year's claims of an agency (or the landlord) and their response deadlines.

    A claim is answered when work starts on it, the tenant is asked a question (the pause
    of its clock is itself the answer), it is resolved or the tenant gets a visible
    comment (``responded_at``); on time when that was no later than its response deadline
    (``response_due``, in its policy's business or calendar hours). A claim still
    unanswered is late once its deadline has passed, and not counted before."""

    claims: int
    on_time: int
    late: int

    @property
    def pending(self) -> int:
        return self.claims - self.on_time - self.late

    @property
    def rate(self) -> float | None:
        """Share answered on time among the claims whose response is decided."""
        decided = self.on_time + self.late
        return self.on_time / decided if decided else None

    def __add__(self, other: ResponseCount) -> ResponseCount:
        return ResponseCount(
            self.claims + other.claims, self.on_time + other.on_time, self.late + other.late
        )


def response_counts(
    session: Session, start: datetime, end: datetime, now: datetime
) -> dict[int, ResponseCount]:
    """Per agency, the claims created in [start, end) but cancelled ones, and how many were
    answered on time and late (by ``now``)."""
    on_time = sa.and_(Claim.responded_at.is_not(None), Claim.responded_at <= Claim.response_due)
    late = sa.or_(
        Claim.responded_at > Claim.response_due,
        sa.and_(Claim.responded_at.is_(None), Claim.response_due < now),
    )
    rows = session.execute(
        sa.select(
            Claim.agency_id,
            sa.func.count(),
            sa.func.sum(sa.case((on_time, 1), else_=0)),
            sa.func.sum(sa.case((late, 1), else_=0)),
        )
        .where(
            Claim.created_at >= start,
            Claim.created_at < end,
            Claim.status != ClaimStatus.CANCELLED,
        )
        .group_by(Claim.agency_id)
    )
    return {
        agency_id: ResponseCount(int(claims), int(on or 0), int(lt or 0))
        for agency_id, claims, on, lt in rows
    }
