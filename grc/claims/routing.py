"""Routing: who handles a claim, and why.

Precedence (DESIGN §3): a contract covering the residence and category on that date sends a
work order to its contractor, supervised by the agency's technical unit; else the most
specific routing rule (residence > agency > territory > everywhere, then the most specific
category); else the category's default unit for the agency.
"""

from __future__ import annotations

from datetime import date

from flask_babel import force_locale

from grc.claims.catalogue_cache import Catalogue, CategoryValue, RuleValue
from grc.claims.models import Route, RouteKind, RouteReason, TreatmentUnit
from grc.contracts.kinds import kind_label
from grc.contracts.models import Contract, Contractor
from grc.housing.models import Residence

SUPERVISING_UNIT_KIND = "technique"


class NoRoute(Exception):
    """No unit can take the claim: the organisation is missing a unit or a routing rule."""


def choose_route(
    catalogue: Catalogue, category: CategoryValue, residence: Residence, day: date
) -> Route:
    """``residence`` comes with its agency; routing itself reads only the catalogue. The
    route holds the session's rows of what it names (no query)."""
    contract = catalogue.covering_contract(category.id, residence.id, day)
    if contract is not None:
        unit = catalogue.unit_of_kind(SUPERVISING_UNIT_KIND, residence.agency_id)
        if unit is None:
            raise NoRoute(f"agency {residence.agency.code} has no technical unit to supervise")
        return Route(
            kind=RouteKind.CONTRACTOR,
            unit=catalogue.row(TreatmentUnit, unit),
            contractor=catalogue.row(Contractor, contract.contractor),
            contract=catalogue.row(Contract, contract),
            reason_code=RouteReason.CONTRACT,
            reason=(
                f"Contrat {contract.reference} ({_french_kind(contract.kind)}, "
                f"{contract.contractor.name}) "
                f"valide le {day:%d/%m/%Y} pour la résidence {residence.name} et la catégorie "
                f"« {category.label_fr} » ; supervision : {unit.name}."
            ),
        )

    rule = most_specific_rule(catalogue, category, residence)
    if rule is not None:
        unit = catalogue.unit(rule.unit_id)
        return Route(
            kind=RouteKind.UNIT,
            unit=catalogue.row(TreatmentUnit, unit),
            reason_code=RouteReason.RULE,
            reason=(
                f"Règle de routage n° {rule.id} ({_scope_label(rule, residence)}, catégorie "
                f"« {catalogue.category_by_id(rule.category_id).label_fr} ») : {unit.name}."
            ),
        )

    kind = default_unit_kind(category)
    unit = catalogue.unit_of_kind(kind, residence.agency_id)
    if unit is None:
        raise NoRoute(f"no '{kind}' unit for agency {residence.agency.code} nor company-wide")
    why = (
        "aucun contrat ne couvre la résidence" if category.default_route_kind == "contract" else ""
    )
    return Route(
        kind=RouteKind.UNIT,
        unit=catalogue.row(TreatmentUnit, unit),
        reason_code=RouteReason.DEFAULT,
        reason=(
            f"Unité par défaut de la catégorie « {category.label_fr} » "
            f"pour l'agence {residence.agency.name} : {unit.name}" + (f" ({why})." if why else ".")
        ),
    )


def _scope(rule: RuleValue) -> int:
    return 3 if rule.residence_id else 2 if rule.agency_id else 1 if rule.territory_id else 0


def most_specific_rule(
    catalogue: Catalogue, category: CategoryValue, residence: Residence
) -> RuleValue | None:
    lineage = category.lineage_ids
    territory_id = residence.agency.territory_id
    # The scopes that contain this residence, everywhere included.
    scopes = {
        (residence.id, None, None),
        (None, residence.agency_id, None),
        (None, None, territory_id),
        (None, None, None),
    }
    candidates = [
        rule
        for rule in catalogue.rules_for(lineage)
        if (rule.residence_id, rule.agency_id, rule.territory_id) in scopes
    ]
    if not candidates:
        return None

    def specificity(rule: RuleValue) -> tuple[int, int, int]:
        # A rule on the category itself beats one on its domain; the newest rule breaks ties.
        return _scope(rule), -lineage.index(rule.category_id), rule.id

    return max(candidates, key=specificity)


def _scope_label(rule: RuleValue, residence: Residence) -> str:
    """The rule applies to this residence: its scope is the residence, its agency or its
    territory."""
    scope = _scope(rule)
    if scope == 3:
        return f"résidence {residence.name}"
    if scope == 2:
        return f"agence {residence.agency.name}"
    if scope == 1:
        return f"territoire {residence.agency.territory.name}"
    return "tout le patrimoine"


def default_unit_kind(category: CategoryValue) -> str:
    for node in category.lineage:
        if node.default_route_kind == "unit" and node.default_route_target:
            return node.default_route_target
        if node.default_route_kind == "contract":
            return SUPERVISING_UNIT_KIND
    return SUPERVISING_UNIT_KIND if category.technical else "gestion_locative"


def _french_kind(kind: str) -> str:
    # The reason is stored, in French, whatever the language of the screen that routed it.
    with force_locale("fr"):
        return kind_label(kind)
