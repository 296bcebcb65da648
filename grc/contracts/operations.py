"""Administration of contractors and contracts: create, edit, retire (never delete: claims
and work orders refer to them). They flush; the caller commits.

Routing reads contracts from the catalogue cache (``grc.claims.catalogue_cache``): the
triggers of migration 0006 write a new stamp in ``catalogue_versions`` in the same
transaction as any change to ``contractors``, ``contracts`` and their two link tables, so
the next claim after the commit is routed with the contract as saved, in every process.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, joinedload, selectinload

from grc.claims.models import Category
from grc.contracts.models import (
    CONTRACT_PRIORITIES,
    Contract,
    Contractor,
    contract_residences,
)
from grc.errors import Conflict, InvalidInput
from grc.housing.models import Agency, Residence

T = TypeVar("T")

# The deadlines a contract holds per claim priority: (acknowledge hours, complete hours).
Deadlines = dict[str, tuple[int, int]]


@dataclass(frozen=True)
class ContractorDetails:
    code: str
    name: str
    email: str
    phone: str | None = None


@dataclass(frozen=True)
class ContractTerms:
    contractor_id: int
    reference: str
    kind: str
    starts_on: date
    ends_on: date | None
    residence_ids: tuple[int, ...]
    category_ids: tuple[int, ...]
    deadlines: Deadlines = field(default_factory=dict)


# --- contractors ----------------------------------------------------------------------------


def create_contractor(session: Session, details: ContractorDetails) -> Contractor:
    details = _clean_contractor(details)
    _check_contractor_code(session, details.code, None)
    contractor = Contractor(
        code=details.code, name=details.name, email=details.email, phone=details.phone
    )
    session.add(contractor)
    _flush_or_reference_taken(session, "code", "Another contractor has this code.")
    return contractor


def update_contractor(
    session: Session, contractor: Contractor, details: ContractorDetails
) -> Contractor:
    details = _clean_contractor(details)
    _check_contractor_code(session, details.code, contractor.id)
    contractor.code = details.code
    contractor.name = details.name
    contractor.email = details.email
    contractor.phone = details.phone
    _flush_or_reference_taken(session, "code", "Another contractor has this code.")
    return contractor


def retire_contractor(session: Session, contractor: Contractor, today: date) -> Contractor:
    """No longer offered for a new contract; its running contracts end today (claims
    registered today still go to it: the tenant may already have been told). A contract
    that has not started yet is refused: its dates are changed first, on purpose."""
    if contractor.retired_on is not None:
        raise Conflict(f"Contractor {contractor.code} is retired already.")
    contracts = list(
        session.execute(sa.select(Contract).where(Contract.contractor_id == contractor.id))
        .scalars()
        .all()
    )
    later = [c.reference for c in contracts if c.starts_on > today]
    if later:
        raise Conflict(
            f"Contractor {contractor.code} has contracts starting later: {', '.join(later)}."
        )
    for contract in contracts:
        if contract.ends_on is None or contract.ends_on > today:
            contract.ends_on = today
    contractor.retired_on = today
    session.flush()
    return contractor


def _clean_contractor(details: ContractorDetails) -> ContractorDetails:
    cleaned = ContractorDetails(
        code=details.code.strip().upper(),
        name=details.name.strip(),
        email=details.email.strip().lower(),
        phone=(details.phone or "").strip() or None,
    )
    errors: dict[str, list[str]] = {}
    if not cleaned.code or len(cleaned.code) > 30:
        errors["code"] = ["Give a code of 1 to 30 characters."]
    if not cleaned.name or len(cleaned.name) > 120:
        errors["name"] = ["Give a name of 1 to 120 characters."]
    if "@" not in cleaned.email or len(cleaned.email) > 254:
        errors["email"] = ["Give the e-mail address work orders are sent to."]
    if cleaned.phone is not None and len(cleaned.phone) > 20:
        errors["phone"] = ["At most 20 characters."]
    if errors:
        raise InvalidInput(errors)
    return cleaned


def _check_contractor_code(session: Session, code: str, own_id: int | None) -> None:
    taken = session.execute(
        sa.select(Contractor.id).where(Contractor.code == code, Contractor.id != (own_id or 0))
    ).first()
    if taken is not None:
        raise InvalidInput({"code": ["Another contractor has this code."]})


# --- contracts ------------------------------------------------------------------------------


def create_contract(session: Session, terms: ContractTerms) -> Contract:
    contract = Contract()
    _write_terms(session, contract, terms)
    session.add(contract)
    _flush_or_reference_taken(session, "reference", "Another contract has this reference.")
    return contract


def update_contract(session: Session, contract: Contract, terms: ContractTerms) -> Contract:
    """Change any of a contract's terms. Work orders already sent keep the deadlines they
    were sent with; claims already routed keep their route."""
    _write_terms(session, contract, terms)
    _flush_or_reference_taken(session, "reference", "Another contract has this reference.")
    return contract


def contract_kinds(session: Session) -> list[str]:
    """The kinds a contract may have: those the catalogue routes to a contract, and those of
    the contracts already held."""
    routed = session.execute(
        sa.select(Category.default_route_target)
        .where(Category.default_route_kind == "contract")
        .distinct()
    ).scalars()
    held = session.execute(sa.select(Contract.kind).distinct()).scalars()
    return sorted({kind for kind in (*routed, *held) if kind})


def _write_terms(session: Session, contract: Contract, terms: ContractTerms) -> None:
    errors: dict[str, list[str]] = {}
    reference = terms.reference.strip()
    kind = terms.kind.strip()
    if not reference or len(reference) > 40:
        errors["reference"] = ["Give a reference of 1 to 40 characters."]
    elif session.execute(
        sa.select(Contract.id).where(
            Contract.reference == reference, Contract.id != (contract.id or 0)
        )
    ).first():
        errors["reference"] = ["Another contract has this reference."]
    if not kind or len(kind) > 30:
        errors["kind"] = ["Give the kind of contract."]

    contractor = session.get(Contractor, terms.contractor_id)
    if contractor is None:
        errors["contractor_id"] = ["No such contractor."]
    elif contractor.retired_on is not None and contractor.id != contract.contractor_id:
        errors["contractor_id"] = ["This contractor is retired."]

    if terms.ends_on is not None and terms.ends_on < terms.starts_on:
        errors["ends_on"] = ["The end comes on or after the start."]

    residences = _residences(session, terms.residence_ids)
    if not terms.residence_ids:
        errors["residence_ids"] = ["Choose at least one residence."]
    elif len(residences) != len(set(terms.residence_ids)):
        errors["residence_ids"] = ["Unknown residence."]
    categories = _categories(session, terms.category_ids)
    if not terms.category_ids:
        errors["category_ids"] = ["Choose at least one category."]
    elif len(categories) != len(set(terms.category_ids)) or any(
        category.parent_id is None for category in categories
    ):
        # A claim is always of a leaf: a domain on a contract would cover nothing.
        errors["category_ids"] = ["Unknown category (choose categories, not domains)."]

    for priority in CONTRACT_PRIORITIES:
        acknowledge, complete = terms.deadlines.get(priority, contract_default(priority))
        if acknowledge is None or acknowledge <= 0:
            errors[f"{priority}_acknowledge_hours"] = ["At least one hour."]
        elif complete is None or complete < acknowledge:
            errors[f"{priority}_complete_hours"] = ["No shorter than the time to acknowledge."]
    if errors:
        raise InvalidInput(errors)
    assert contractor is not None  # noqa: S101 (refused above otherwise)

    contract.reference = reference
    contract.kind = kind
    contract.contractor = contractor
    contract.starts_on = terms.starts_on
    contract.ends_on = terms.ends_on
    contract.residences = residences
    contract.categories = categories
    contract.set_deadlines(
        **{
            priority: terms.deadlines.get(priority, contract_default(priority))
            for priority in CONTRACT_PRIORITIES
        }
    )


def contract_default(priority: str) -> tuple[int, int]:
    """The deadlines a new contract starts with (the model's column defaults)."""
    columns = Contract.__table__.c
    return (
        columns[f"{priority}_acknowledge_hours"].default.arg,
        columns[f"{priority}_complete_hours"].default.arg,
    )


def _residences(session: Session, ids: tuple[int, ...]) -> list[Residence]:
    stmt = sa.select(Residence).where(Residence.id.in_(set(ids))).order_by(Residence.id)
    return list(session.execute(stmt).scalars()) if ids else []


def _categories(session: Session, ids: tuple[int, ...]) -> list[Category]:
    stmt = sa.select(Category).where(Category.id.in_(set(ids))).order_by(Category.id)
    return list(session.execute(stmt).scalars()) if ids else []


def _flush_or_reference_taken(session: Session, field_name: str, message: str) -> None:
    """Flush; the unique index decides when two people save the same reference at once."""
    try:
        with session.begin_nested():
            session.flush()
    except sa_exc.IntegrityError as error:
        raise InvalidInput({field_name: [message]}) from error


# --- listings -------------------------------------------------------------------------------

PAGE_SIZE = 50


@dataclass(frozen=True)
class ContractFilters:
    q: str = ""
    contractor_id: int | None = None
    residence_id: int | None = None
    state: str = ""  # running, upcoming, ended (on ``today``)


def contracts_page(
    session: Session, filters: ContractFilters, today: date, page: int
) -> tuple[list[Contract], int]:
    """One page of contracts, newest start first, with their contractor, residences and
    categories loaded in three queries; and how many match."""
    stmt = sa.select(Contract)
    if filters.q:
        stmt = stmt.where(Contract.reference.ilike(f"%{_escape_like(filters.q)}%", escape="\\"))
    if filters.contractor_id is not None:
        stmt = stmt.where(Contract.contractor_id == filters.contractor_id)
    if filters.residence_id is not None:
        stmt = stmt.where(
            Contract.id.in_(
                sa.select(contract_residences.c.contract_id).where(
                    contract_residences.c.residence_id == filters.residence_id
                )
            )
        )
    if filters.state == "running":
        stmt = stmt.where(
            Contract.starts_on <= today,
            sa.or_(Contract.ends_on.is_(None), Contract.ends_on >= today),
        )
    elif filters.state == "upcoming":
        stmt = stmt.where(Contract.starts_on > today)
    elif filters.state == "ended":
        stmt = stmt.where(Contract.ends_on < today)
    total = session.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar_one()
    contracts = session.execute(
        stmt.options(
            joinedload(Contract.contractor),
            selectinload(Contract.residences),
            selectinload(Contract.categories),
        )
        .order_by(Contract.starts_on.desc(), Contract.id.desc())
        .limit(PAGE_SIZE)
        .offset(max(page - 1, 0) * PAGE_SIZE)
    ).scalars()
    return list(contracts), total


def contractors_page(session: Session, page: int) -> tuple[list[tuple[Contractor, int]], int]:
    """One page of contractors, active first then by name, each with its number of
    contracts; and how many there are."""
    counts = (
        sa.select(Contract.contractor_id, sa.func.count().label("contracts"))
        .group_by(Contract.contractor_id)
        .subquery()
    )
    total = session.execute(sa.select(sa.func.count(Contractor.id))).scalar_one()
    rows = session.execute(
        sa.select(Contractor, sa.func.coalesce(counts.c.contracts, 0))
        .outerjoin(counts, counts.c.contractor_id == Contractor.id)
        .order_by(Contractor.retired_on.is_not(None), Contractor.name, Contractor.id)
        .limit(PAGE_SIZE)
        .offset(max(page - 1, 0) * PAGE_SIZE)
    ).all()
    return [(contractor, count) for contractor, count in rows], total


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def residences_by_agency(session: Session) -> list[tuple[str, list[Residence]]]:
    """Every residence, grouped by agency (what a contract may cover)."""
    rows = session.execute(
        sa.select(Residence, Agency.name)
        .join(Agency, Agency.id == Residence.agency_id)
        .order_by(Agency.name, Residence.name, Residence.id)
    ).all()
    return _grouped((agency, residence) for residence, agency in rows)


def categories_by_domain(session: Session) -> list[tuple[Category, list[Category]]]:
    """Every category under its domain (a contract covers categories, not domains); a
    retired one stays listed, so that a contract holding it keeps it when edited."""
    domains = {
        domain.id: domain
        for domain in session.execute(
            sa.select(Category).where(Category.parent_id.is_(None)).order_by(Category.code)
        ).scalars()
    }
    leaves = session.execute(
        sa.select(Category).where(Category.parent_id.is_not(None)).order_by(Category.code)
    ).scalars()
    grouped: dict[int, list[Category]] = {domain_id: [] for domain_id in domains}
    for leaf in leaves:
        grouped.setdefault(_domain_id(leaf, domains), []).append(leaf)
    return [(domains[key], items) for key, items in grouped.items() if items and key in domains]


def _domain_id(category: Category, domains: dict[int, Category]) -> int:
    # The catalogue is two levels deep today; a deeper node files under its parent.
    return category.parent_id if category.parent_id in domains else (category.parent_id or 0)


def _grouped(pairs: Iterable[tuple[str, T]]) -> list[tuple[str, list[T]]]:
    groups: dict[str, list[T]] = {}
    for key, item in pairs:
        groups.setdefault(key, []).append(item)
    return list(groups.items())
