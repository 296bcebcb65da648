"""Read side of claims, always scoped to who is asking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload, selectinload

from grc.claims.models import (
    OPEN_STATUSES,
    Category,
    Claim,
    ClaimStatus,
)
from grc.errors import NotFound
from grc.people.models import Role, Tenant, User
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


@dataclass(frozen=True)
class ClaimFilters:
    status: list[ClaimStatus] | None = None
    unit_id: int | None = None
    category: str | None = None
    agency_id: int | None = None
    tenant_id: int | None = None
    overdue: bool | None = None
    q: str | None = None


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
        late = sa.and_(
            Claim.status.in_([s for s in OPEN_STATUSES if s != ClaimStatus.WAITING_TENANT]),
            Claim.resolution_due < now,
        )
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
