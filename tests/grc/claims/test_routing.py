"""Routing precedence (DESIGN §3): covering contract > most specific rule > default unit.

Tested through ``choose_route`` and through POST /api/v1/claims, on every backend.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from grc.claims.catalogue_cache import catalogue
from grc.claims.models import Claim, ClaimEvent, RouteKind, RouteReason
from grc.claims.routing import NoRoute, choose_route
from grc.contracts.models import Contract, Contractor
from grc.extensions import db
from grc.housing.models import Agency, Building, Dwelling
from grc.housing.models import Residence as ResidenceModel
from tests.factories import claim_payload

DAY = date(2026, 6, 15)
TIL_LEAK_REASON = (
    "Contrat MS-2026 (Multiservices, Multiservices Lorraine) valide le 15/06/2026 pour la "
    "résidence Les Tilleuls et la catégorie « Fuite d'eau active » ; supervision : "
    "Technique Metz."
)
PARC_LEAK_REASON = (
    "Unité par défaut de la catégorie « Fuite d'eau active » pour l'agence Woippy : "
    "Technique Woippy (aucun contrat ne couvre la résidence)."
)


def route(world, category: str, residence: str, day: date = DAY):
    current = catalogue(db.session)
    return choose_route(current, current.category(category), world.residences[residence], day)


def unit_code(r) -> str:
    return r.unit.code


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- contracts -----------------------------------------------------------------------------


def test_leak_in_a_covered_residence_goes_to_the_multiservice_contractor(world):
    r = route(world, "PLB-FUITE", "TIL")
    assert r.kind == RouteKind.CONTRACTOR
    assert r.contractor is world.contractors["MULTI"]
    assert r.contract is world.contracts["MULTI"]
    assert r.contract.reference == "MS-2026"
    assert r.unit is world.units["METZ-technique"]
    assert r.reason_code == RouteReason.CONTRACT
    assert "MS-2026" in r.reason
    assert r.reason == TIL_LEAK_REASON


def test_contract_supervision_is_by_the_residence_agency(world):
    r = route(world, "PLB-FUITE", "HAUS")
    assert r.kind == RouteKind.CONTRACTOR
    assert r.contractor.code == "MULTI"
    assert unit_code(r) == "NANCY-technique"


def test_leak_in_a_residence_without_contract_goes_to_the_agency_technical_unit(world):
    r = route(world, "PLB-FUITE", "PARC")
    assert r.kind == RouteKind.UNIT
    assert unit_code(r) == "WOIPPY-technique"
    assert r.contractor is None
    assert r.contract is None
    assert r.reason_code == RouteReason.DEFAULT
    assert r.reason == PARC_LEAK_REASON


def test_a_category_outside_the_contract_is_not_routed_by_it(world):
    # Shared pipes are the landlord's technical unit's job even in a covered residence.
    r = route(world, "PLB-COLONNE", "TIL")
    assert (r.kind, unit_code(r), r.reason_code) == (
        RouteKind.UNIT,
        "METZ-technique",
        RouteReason.DEFAULT,
    )
    assert r.reason == (
        "Unité par défaut de la catégorie « Fuite sur colonne ou réseau commun » "
        "pour l'agence Metz : Technique Metz."
    )


def test_elevator_breakdown_goes_to_the_elevator_contractor(world):
    r = route(world, "ASC-PANNE", "TIL")
    assert r.kind == RouteKind.CONTRACTOR
    assert r.contractor.code == "ELEV"
    assert r.contract.reference == "ASC-2025"
    assert unit_code(r) == "METZ-technique"
    parc = route(world, "ASC-PANNE", "PARC")
    assert (parc.kind, unit_code(parc), parc.reason_code) == (
        RouteKind.UNIT,
        "WOIPPY-technique",
        RouteReason.DEFAULT,
    )


@pytest.mark.parametrize(
    ("day", "covered"),
    [
        (date(2023, 12, 31), False),  # the day before it starts
        (date(2024, 1, 1), True),  # first day
        (date(2027, 12, 31), True),  # last day
        (date(2028, 1, 1), False),  # the day after it ended
    ],
)
def test_contract_validity_dates_are_inclusive(world, day, covered):
    r = route(world, "PLB-FUITE", "TIL", day)
    assert (r.kind == RouteKind.CONTRACTOR) is covered
    assert unit_code(r) == "METZ-technique"
    assert r.reason_code == (RouteReason.CONTRACT if covered else RouteReason.DEFAULT)


def test_contract_that_ended_yesterday_or_starts_tomorrow_does_not_route(world):
    contract = world.contracts["MULTI"]
    contract.ends_on = DAY - timedelta(days=1)
    contract.starts_on = date(2024, 1, 1)
    db.session.flush()
    assert route(world, "PLB-FUITE", "TIL").reason_code == RouteReason.DEFAULT
    contract.ends_on = DAY
    db.session.flush()
    assert route(world, "PLB-FUITE", "TIL").reason_code == RouteReason.CONTRACT

    contract.starts_on, contract.ends_on = DAY + timedelta(days=1), None
    db.session.flush()
    assert route(world, "PLB-FUITE", "TIL").reason_code == RouteReason.DEFAULT
    contract.starts_on = DAY
    db.session.flush()
    assert route(world, "PLB-FUITE", "TIL").reason_code == RouteReason.CONTRACT


def _extra_contract(world, reference: str, starts_on: date, ends_on: date | None) -> Contract:
    contractor = Contractor(
        code=f"C-{reference}",
        name=f"Prestataire {reference}",
        email=f"{reference.lower()}@prestataire.test",
    )
    contract = Contract(
        reference=reference,
        contractor=contractor,
        kind="multiservice",
        starts_on=starts_on,
        ends_on=ends_on,
    )
    contract.residences = [world.residences["TIL"]]
    contract.categories = [world.category("PLB-FUITE")]
    db.session.add(contract)
    db.session.flush()
    return contract


def test_overlapping_contracts_the_more_recently_started_wins(world):
    renewal = _extra_contract(world, "MS-2026-BIS", date(2026, 6, 1), None)
    assert route(world, "PLB-FUITE", "TIL", date(2026, 6, 1)).contract is renewal
    assert route(world, "PLB-FUITE", "TIL", DAY).contract is renewal
    assert route(world, "PLB-FUITE", "TIL", date(2026, 5, 31)).contract is world.contracts["MULTI"]
    # Only the categories the renewal lists move to it.
    assert route(world, "PLB-ROBINET", "TIL").contract is world.contracts["MULTI"]


def test_overlap_is_decided_by_start_date_not_by_insertion_order(world):
    older = _extra_contract(world, "MS-2020", date(2020, 1, 1), None)
    assert older.id > world.contracts["MULTI"].id
    assert route(world, "PLB-FUITE", "TIL").contract is world.contracts["MULTI"]
    # Once MS-2026 has ended, the older open-ended contract still covers the residence.
    assert route(world, "PLB-FUITE", "TIL", date(2028, 1, 1)).contract is older


# --- routing rules -------------------------------------------------------------------------

# Each scope points VOI-BRUIT (default: company-wide tranquillite) at a different unit.
SCOPES = [
    ("residence", "METZ-proximite"),
    ("agency", "METZ-social"),
    ("territory", "WOIPPY-proximite"),
    ("everywhere", "sinistres"),
]


def scope_kwargs(world, scope: str, residence: str = "TIL") -> dict:
    res = world.residences[residence]
    return {
        "residence": {"residence": res},
        "agency": {"agency": res.agency},
        "territory": {"territory": res.agency.territory},
        "everywhere": {},
    }[scope]


def test_without_rules_noise_goes_to_the_company_wide_default(world):
    r = route(world, "VOI-BRUIT", "TIL")
    assert (r.kind, unit_code(r), r.reason_code) == (
        RouteKind.UNIT,
        "TRANQUILLITE",
        RouteReason.DEFAULT,
    )
    assert r.reason == (
        "Unité par défaut de la catégorie « Bruit de voisinage » pour l'agence Metz : Tranquillite."
    )


@pytest.mark.parametrize("most_specific", range(len(SCOPES)))
def test_the_most_specific_scope_wins(world, most_specific):
    # Rules are created most specific first, so the winner is never simply the newest.
    rules = {}
    for scope, unit in SCOPES[most_specific:]:
        rules[scope] = world.add_rule("VOI-BRUIT", unit, **scope_kwargs(world, scope))
    scope, unit = SCOPES[most_specific]
    r = route(world, "VOI-BRUIT", "TIL")
    assert r.kind == RouteKind.UNIT
    assert unit_code(r) == world.units[unit].code
    assert r.reason_code == RouteReason.RULE
    assert f"Règle de routage n° {rules[scope].id} " in r.reason


def test_rule_reasons_name_the_scope(world):
    expected = {
        "residence": "résidence Les Tilleuls",
        "agency": "agence Metz",
        "territory": "territoire Moselle",
        "everywhere": "tout le patrimoine",
    }
    for scope, unit in reversed(SCOPES):
        rule = world.add_rule("VOI-BRUIT", unit, **scope_kwargs(world, scope))
        r = route(world, "VOI-BRUIT", "TIL")
        assert r.reason == (
            f"Règle de routage n° {rule.id} ({expected[scope]}, catégorie "
            f"« Bruit de voisinage ») : {world.units[unit].name}."
        )


def test_rules_scoped_elsewhere_do_not_apply(world):
    world.add_rule("VOI-BRUIT", "WOIPPY-social", residence=world.residences["PARC"])
    world.add_rule("VOI-BRUIT", "NANCY-social", agency=world.agencies["NANCY"])
    world.add_rule("VOI-BRUIT", "NANCY-proximite", territory=world.territories["MM"])
    world.add_rule("VOI-TROUBLE", "METZ-social", residence=world.residences["TIL"])
    assert route(world, "VOI-BRUIT", "TIL").reason_code == RouteReason.DEFAULT
    assert unit_code(route(world, "VOI-BRUIT", "TIL")) == "TRANQUILLITE"
    assert unit_code(route(world, "VOI-BRUIT", "PARC")) == "WOIPPY-social"
    assert unit_code(route(world, "VOI-BRUIT", "HAUS")) == "NANCY-social"  # agency > territory
    assert unit_code(route(world, "VOI-BRUIT", "BELL")) == "NANCY-social"


@pytest.mark.parametrize("scope", [s for s, _ in SCOPES])
def test_exact_category_beats_its_domain_at_the_same_scope(world, scope):
    kwargs = scope_kwargs(world, scope)
    exact = world.add_rule("VOI-BRUIT", "METZ-social", **kwargs)
    domain = world.add_rule("VOI", "METZ-proximite", **kwargs)  # newer, yet less specific
    assert domain.id > exact.id
    r = route(world, "VOI-BRUIT", "TIL")
    assert unit_code(r) == "METZ-social"
    assert f"n° {exact.id} " in r.reason
    # The domain rule still routes the domain's other categories.
    sibling = route(world, "VOI-TROUBLE", "TIL")
    assert unit_code(sibling) == "METZ-proximite"
    assert sibling.reason.endswith("catégorie « Tranquillité et voisinage ») : Proximite Metz.")


def test_scope_outranks_category_specificity(world):
    world.add_rule("VOI-BRUIT", "METZ-social", agency=world.agencies["METZ"])
    world.add_rule("VOI", "METZ-proximite", residence=world.residences["TIL"])
    assert unit_code(route(world, "VOI-BRUIT", "TIL")) == "METZ-proximite"
    world.add_rule("VOI-BRUIT", "sinistres")
    world.add_rule("VOI", "WOIPPY-social", territory=world.territories["MOS"])
    assert unit_code(route(world, "VOI-BRUIT", "PARC")) == "WOIPPY-social"


def test_newest_rule_breaks_a_complete_tie(world):
    world.add_rule("VOI-BRUIT", "METZ-social", agency=world.agencies["METZ"])
    world.add_rule("VOI-BRUIT", "METZ-proximite", agency=world.agencies["METZ"])
    assert unit_code(route(world, "VOI-BRUIT", "TIL")) == "METZ-proximite"


def test_agency_default_for_rent_questions_and_rules_over_it(world):
    assert unit_code(route(world, "LOC-AVIS", "TIL")) == "METZ-recouvrement"
    assert unit_code(route(world, "LOC-AVIS", "BELL")) == "NANCY-recouvrement"
    world.add_rule("LOC", "NANCY-gestion_locative", agency=world.agencies["NANCY"])
    r = route(world, "LOC-AVIS", "BELL")
    assert (unit_code(r), r.reason_code) == ("NANCY-gestion_locative", RouteReason.RULE)
    assert unit_code(route(world, "LOC-AVIS", "TIL")) == "METZ-recouvrement"
    world.add_rule("LOC-AVIS", "sinistres")
    assert unit_code(route(world, "LOC-AVIS", "TIL")) == "SINISTRES"
    assert unit_code(route(world, "LOC-AVIS", "BELL")) == "NANCY-gestion_locative"


def test_a_contract_beats_any_rule_for_a_covered_category(world):
    world.add_rule("PLB-FUITE", "METZ-proximite", residence=world.residences["TIL"])
    world.add_rule("PLB", "METZ-social", agency=world.agencies["METZ"])
    world.add_rule("PLB-FUITE", "sinistres")
    r = route(world, "PLB-FUITE", "TIL")
    assert (r.kind, r.contractor.code, unit_code(r)) == (
        RouteKind.CONTRACTOR,
        "MULTI",
        "METZ-technique",
    )
    assert r.reason == TIL_LEAK_REASON
    # Without a contract the rules apply to the same category.
    parc_rule = world.add_rule("PLB-FUITE", "WOIPPY-proximite", residence=world.residences["PARC"])
    r = route(world, "PLB-FUITE", "PARC")
    assert (r.kind, unit_code(r), r.reason_code) == (
        RouteKind.UNIT,
        "WOIPPY-proximite",
        RouteReason.RULE,
    )
    assert f"n° {parc_rule.id} " in r.reason


# --- missing units -------------------------------------------------------------------------


def _bare_agency_residence(world) -> ResidenceModel:
    """Forbach: an agency of the Moselle territory where no unit has been set up yet."""
    agency = Agency(code="FORBACH", name="Forbach", territory=world.territories["MOS"])
    residence = ResidenceModel(
        code="FOR", name="Le Forbach", agency=agency, department_code="57", city="Forbach"
    )
    building = Building(
        code="FOR-A",
        residence=residence,
        entrance="A",
        street="1 rue Nationale",
        postcode="57600",
        city="Forbach",
    )
    building.refresh_search_address()
    dwelling = Dwelling(code="FOR-A-11", building=building, floor=1, door="11")
    db.session.add_all([agency, residence, building, dwelling])
    db.session.flush()
    world.residences["FOR"], world.dwellings["FOR-11"] = residence, dwelling
    return residence


def test_no_route_when_a_unit_kind_exists_nowhere(world):
    _bare_agency_residence(world)
    with pytest.raises(NoRoute, match="no 'recouvrement' unit for agency FORBACH"):
        route(world, "LOC-AVIS", "FOR")
    world.contracts["MULTI"].residences.append(world.residences["FOR"])
    db.session.flush()
    with pytest.raises(NoRoute, match="agency FORBACH has no technical unit to supervise"):
        route(world, "PLB-FUITE", "FOR")
    # Company-wide units still serve the new agency.
    assert unit_code(route(world, "VOI-BRUIT", "FOR")) == "TRANQUILLITE"


def _post(client, world, **payload):
    return client.post(
        "/api/v1/claims", json=claim_payload(world, **payload), headers=world.headers("agent")
    )


@pytest.mark.parametrize(
    ("category", "message"),
    [
        (
            "LOC-AVIS",
            "No treatment unit can take this claim: no 'recouvrement' unit for agency "
            "FORBACH nor company-wide.",
        ),
        (
            "PLB-FUITE",
            "No treatment unit can take this claim: agency FORBACH has no technical "
            "unit to supervise.",
        ),
    ],
)
def test_api_answers_409_and_writes_nothing_without_a_unit(client, world, category, message):
    _bare_agency_residence(world)
    world.contracts["MULTI"].residences.append(world.residences["FOR"])
    db.session.commit()
    claims, events = count(Claim), count(ClaimEvent)
    response = _post(client, world, category=category, dwelling_id=world.dwellings["FOR-11"].id)
    assert response.status_code == 409, response.json
    assert response.json["message"] == message
    assert (count(Claim), count(ClaimEvent)) == (claims, events) == (0, 0)
    # The same agency can still take a claim a company-wide unit handles.
    ok = _post(client, world, category="VOI-BRUIT", dwelling_id=world.dwellings["FOR-11"].id)
    assert ok.status_code == 201, ok.json
    assert ok.json["route"]["unit"]["code"] == "TRANQUILLITE"
    assert count(Claim) == 1


def test_api_answers_409_when_the_company_wide_unit_is_gone(client, world):
    db.session.delete(world.units["tranquillite"])
    db.session.commit()
    response = _post(client, world, category="VOI-BRUIT")
    assert response.status_code == 409, response.json
    assert response.json["message"] == (
        "No treatment unit can take this claim: no 'tranquillite' "
        "unit for agency METZ nor company-wide."
    )
    assert count(Claim) == 0
    assert count(ClaimEvent) == 0


# --- through the API: the stored route and its reason -----------------------------------------


def _check_stored(
    client,
    world,
    body: dict,
    *,
    kind: str,
    unit: str,
    reason_code: str,
    reason: str,
    contractor: str | None = None,
    contract: str | None = None,
):
    route_json = body["route"]
    assert route_json["kind"] == kind
    assert route_json["unit"]["code"] == unit
    assert route_json["reason_code"] == reason_code
    assert route_json["reason"] == reason
    assert (route_json["contractor"] or {}).get("code") == contractor
    assert (route_json["contract"] or {}).get("reference") == contract

    got = client.get(f"/api/v1/claims/{body['id']}", headers=world.headers("agent"))
    assert got.status_code == 200
    assert got.json["route"] == route_json
    routed = [e for e in got.json["events"] if e["kind"] == "routed"]
    assert len(routed) == 1
    assert routed[0]["body"] == reason
    assert routed[0]["changes"]["route"]["reason"] == reason_code

    stored = db.session.get(Claim, body["id"])
    assert stored.route_kind == RouteKind(kind)
    assert stored.route_reason_code == RouteReason(reason_code)
    assert stored.route_reason == reason
    assert stored.unit.code == unit
    assert (stored.contractor.code if stored.contractor else None) == contractor
    assert (stored.contract.reference if stored.contract else None) == contract


def test_api_contract_route_is_stored_with_its_reason(client, world):
    with freeze_time("2026-06-15T08:00:00Z"):
        response = _post(client, world, category="PLB-FUITE")
    assert response.status_code == 201, response.json
    _check_stored(
        client,
        world,
        response.json,
        kind="contractor",
        unit="METZ-technique",
        reason_code="contract",
        reason=TIL_LEAK_REASON,
        contractor="MULTI",
        contract="MS-2026",
    )


def test_api_default_route_is_stored_with_its_reason(client, world):
    response = _post(client, world, category="PLB-FUITE", dwelling_id=world.dwellings["PARC-11"].id)
    assert response.status_code == 201, response.json
    _check_stored(
        client,
        world,
        response.json,
        kind="unit",
        unit="WOIPPY-technique",
        reason_code="default",
        reason=PARC_LEAK_REASON,
    )


def test_api_rule_route_is_stored_with_its_reason(client, world):
    rule = world.add_rule("VOI-BRUIT", "METZ-proximite", residence=world.residences["TIL"])
    world.add_rule("VOI", "METZ-social", agency=world.agencies["METZ"])
    db.session.commit()
    response = _post(client, world, category="VOI-BRUIT")
    assert response.status_code == 201, response.json
    _check_stored(
        client,
        world,
        response.json,
        kind="unit",
        unit="METZ-proximite",
        reason_code="rule",
        reason=(
            f"Règle de routage n° {rule.id} (résidence Les Tilleuls, catégorie "
            "« Bruit de voisinage ») : Proximite Metz."
        ),
    )


@pytest.mark.parametrize(
    ("equipment", "kind", "unit", "contractor", "contract"),
    [
        ("TIL-ELEV", "contractor", "METZ-technique", "ELEV", "ASC-2025"),
        ("PARC-ELEV", "unit", "WOIPPY-technique", None, None),
    ],
)
def test_api_elevator_breakdown(client, world, equipment, kind, unit, contractor, contract):
    response = _post(
        client,
        world,
        category="ASC-PANNE",
        dwelling_id=None,
        equipment_id=world.equipment[equipment].id,
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["location"]["equipment_id"] == world.equipment[equipment].id
    assert body["route"]["kind"] == kind
    assert body["route"]["unit"]["code"] == unit
    assert (body["route"]["contractor"] or {}).get("code") == contractor
    assert (body["route"]["contract"] or {}).get("reference") == contract
    assert body["route"]["reason_code"] == ("contract" if contractor else "default")


@pytest.mark.parametrize(
    ("frozen", "kind", "reason_code"),
    [
        ("2026-06-30T21:30:00Z", "contractor", "contract"),  # 23:30 on 30/06 in Metz
        ("2026-06-30T22:30:00Z", "unit", "default"),  # already 01/07 in Metz
    ],
)
def test_api_routes_on_the_local_date(client, world, frozen, kind, reason_code):
    world.contracts["MULTI"].ends_on = date(2026, 6, 30)
    db.session.commit()
    with freeze_time(frozen):
        response = _post(client, world, category="PLB-FUITE")
    assert response.status_code == 201, response.json
    assert response.json["route"]["kind"] == kind
    assert response.json["route"]["reason_code"] == reason_code
    assert response.json["route"]["unit"]["code"] == "METZ-technique"
