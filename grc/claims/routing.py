"""Routing: who handles a claim, and why.

Precedence (DESIGN §3): a contract covering the residence and category on that date sends a
work order to its contractor, supervised by the agency's technical unit; else the most
specific routing rule (residence > agency > territory > everywhere, then the most specific
category); else the category's default unit for the agency.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from grc.claims.models import (
    Category,
    Route,
    RouteKind,
    RouteReason,
    RoutingRule,
    TreatmentUnit,
)
from grc.contracts.models import Contract, contract_categories, contract_residences
from grc.housing.models import Residence

SUPERVISING_UNIT_KIND = "technique"


class NoRoute(Exception):
    """No unit can take the claim: the organisation is missing a unit or a routing rule."""


def choose_route(session: Session, category: Category, residence: Residence, day: date) -> Route:
    contract = covering_contract(session, category, residence, day)
    if contract is not None:
        unit = unit_of_kind(session, SUPERVISING_UNIT_KIND, residence.agency_id)
        if unit is None:
            raise NoRoute(f"agency {residence.agency.code} has no technical unit to supervise")
        return Route(
            kind=RouteKind.CONTRACTOR,
            unit=unit,
            contractor=contract.contractor,
            contract=contract,
            reason_code=RouteReason.CONTRACT,
            reason=(
                f"Contrat {contract.reference} ({contract.kind}, {contract.contractor.name}) "
                f"valide le {day:%d/%m/%Y} pour la résidence {residence.name} et la catégorie "
                f"« {category.label_fr} » ; supervision : {unit.name}."
            ),
        )

    rule = most_specific_rule(session, category, residence)
    if rule is not None:
        return Route(
            kind=RouteKind.UNIT,
            unit=rule.unit,
            reason_code=RouteReason.RULE,
            reason=(
                f"Règle de routage n° {rule.id} ({_scope_label(rule)}, catégorie "
                f"« {rule.category.label_fr} ») : {rule.unit.name}."
            ),
        )

    kind = default_unit_kind(category)
    unit = unit_of_kind(session, kind, residence.agency_id)
    if unit is None:
        raise NoRoute(f"no '{kind}' unit for agency {residence.agency.code} nor company-wide")
    why = (
        "aucun contrat ne couvre la résidence" if category.default_route_kind == "contract" else ""
    )
    return Route(
        kind=RouteKind.UNIT,
        unit=unit,
        reason_code=RouteReason.DEFAULT,
        reason=(
            f"Unité par défaut de la catégorie « {category.label_fr} » "
            f"pour l'agence {residence.agency.name} : {unit.name}" + (f" ({why})." if why else ".")
        ),
    )


def covering_contract(
    session: Session, category: Category, residence: Residence, day: date
) -> Contract | None:
    stmt = (
        sa.select(Contract)
        .join(contract_residences, contract_residences.c.contract_id == Contract.id)
        .join(contract_categories, contract_categories.c.contract_id == Contract.id)
        .where(
            contract_residences.c.residence_id == residence.id,
            contract_categories.c.category_id == category.id,
            Contract.starts_on <= day,
            sa.or_(Contract.ends_on.is_(None), Contract.ends_on >= day),
        )
        # Several contracts may overlap while one is renewed: the most recent one wins.
        .order_by(Contract.starts_on.desc(), Contract.id.desc())
        .limit(1)
        .options(joinedload(Contract.contractor))
    )
    return session.execute(stmt).scalar_one_or_none()


def _category_lineage(category: Category) -> list[int]:
    lineage, node = [], category
    while node is not None:
        lineage.append(node.id)
        node = node.parent
    return lineage


def most_specific_rule(
    session: Session, category: Category, residence: Residence
) -> RoutingRule | None:
    lineage = _category_lineage(category)
    territory_id = residence.agency.territory_id
    candidates = (
        session.execute(
            sa.select(RoutingRule).where(
                RoutingRule.category_id.in_(lineage),
                sa.or_(
                    RoutingRule.residence_id == residence.id,
                    RoutingRule.agency_id == residence.agency_id,
                    RoutingRule.territory_id == territory_id,
                    sa.and_(
                        RoutingRule.residence_id.is_(None),
                        RoutingRule.agency_id.is_(None),
                        RoutingRule.territory_id.is_(None),
                    ),
                ),
            )
        )
        .scalars()
        .all()
    )
    if not candidates:
        return None

    def specificity(rule: RoutingRule) -> tuple[int, int, int]:
        scope = 3 if rule.residence_id else 2 if rule.agency_id else 1 if rule.territory_id else 0
        # A rule on the category itself beats one on its domain; the newest rule breaks ties.
        return scope, -lineage.index(rule.category_id), rule.id

    return max(candidates, key=specificity)


def _scope_label(rule: RoutingRule) -> str:
    if rule.residence is not None:
        return f"résidence {rule.residence.name}"
    if rule.agency is not None:
        return f"agence {rule.agency.name}"
    if rule.territory is not None:
        return f"territoire {rule.territory.name}"
    return "tout le patrimoine"


def default_unit_kind(category: Category) -> str:
    node: Category | None = category
    while node is not None:
        if node.default_route_kind == "unit" and node.default_route_target:
            return node.default_route_target
        if node.default_route_kind == "contract":
            return SUPERVISING_UNIT_KIND
        node = node.parent
    return SUPERVISING_UNIT_KIND if category.technical else "gestion_locative"


def unit_of_kind(session: Session, kind: str, agency_id: int) -> TreatmentUnit | None:
    """The agency's unit of that kind, else the company-wide one."""
    units = (
        session.execute(
            sa.select(TreatmentUnit).where(
                TreatmentUnit.kind == kind,
                sa.or_(TreatmentUnit.agency_id == agency_id, TreatmentUnit.agency_id.is_(None)),
            )
        )
        .scalars()
        .all()
    )
    units.sort(key=lambda u: u.agency_id is None)
    return units[0] if units else None
