"""The catalogue's and units' use cases the administration screens call: what they refuse
(naming the field) and that the catalogue in memory sees their changes at once."""

from __future__ import annotations

import pytest

from grc.claims import catalogue_cache, operations
from grc.claims.models import Clock, Priority
from grc.errors import InvalidInput
from grc.extensions import db


def _refused_field(call) -> set[str]:
    with pytest.raises(InvalidInput) as refused:
        call()
    db.session.rollback()
    return set(refused.value.errors["json"])


def test_a_category_belongs_to_a_domain_and_its_code_is_unique(world):
    new = operations.CategoryFields(code="PLB-FUITE", label_fr="x", label_en="x", parent="PLB")
    assert _refused_field(lambda: operations.create_category(db.session, new)) == {"code"}
    nested = operations.CategoryFields(code="PLB-X", label_fr="x", label_en="x", parent="PLB-FUITE")
    assert _refused_field(lambda: operations.create_category(db.session, nested)) == {"parent"}
    unknown = operations.CategoryFields(code="PLB-X", label_fr="x", label_en="x", sla_policy="NOPE")
    assert _refused_field(lambda: operations.create_category(db.session, unknown)) == {"sla_policy"}

    created = operations.create_category(
        db.session,
        operations.CategoryFields(
            code=" plb-essai ",
            label_fr="Essai",
            label_en="Trial",
            parent="plb",
            default_priority=Priority.HIGH,
        ),
    )
    db.session.commit()
    seen = catalogue_cache.catalogue(db.session).category("PLB-ESSAI")
    assert (seen.id, seen.parent_id, seen.default_priority) == (
        created.id,
        world.category("PLB").id,
        Priority.HIGH,
    )


def test_a_category_returns_to_its_domains_policy(world):
    category = world.category("PLB-FUITE")
    assert category.sla_policy is not None
    operations.update_category(
        db.session, category, operations.CategoryChange(sla_policy=operations.DOMAIN_POLICY)
    )
    assert category.sla_policy is None


def test_an_sla_policy_resolves_no_sooner_than_it_responds(world):
    bad = operations.SlaPolicyFields(
        "P1", "a", "b", response_hours=8, resolution_hours=4, clock=Clock.BUSINESS
    )
    assert _refused_field(lambda: operations.create_sla_policy(db.session, bad)) == {
        "resolution_hours"
    }
    zero = operations.SlaPolicyFields(
        "P1", "a", "b", response_hours=0, resolution_hours=4, clock=Clock.BUSINESS
    )
    assert _refused_field(lambda: operations.create_sla_policy(db.session, zero)) == {
        "response_hours"
    }
    policy = operations.create_sla_policy(
        db.session, operations.SlaPolicyFields("p1", "a", "b", 4, 8, Clock.CALENDAR)
    )
    operations.update_category(
        db.session, world.category("PLB-FUITE"), operations.CategoryChange(sla_policy="P1")
    )
    db.session.commit()
    assert (
        catalogue_cache.catalogue(db.session).category("PLB-FUITE").effective_policy.response_hours
        == 4
    )
    db.session.commit()
    operations.update_sla_policy(
        db.session, policy, operations.SlaPolicyFields("ignored", "c", "d", 2, 2, Clock.BUSINESS)
    )
    db.session.commit()
    seen = catalogue_cache.catalogue(db.session).category("PLB-FUITE").effective_policy
    assert (seen.code, seen.response_hours, seen.resolution_hours, seen.clock) == (
        "P1",
        2,
        2,
        Clock.BUSINESS,
    )


def test_an_agency_has_one_unit_of_each_kind(world):
    metz = world.agencies["METZ"].id
    twin = operations.UnitFields(code="METZ-T2", name="x", kind="technique", agency_id=metz)
    assert _refused_field(lambda: operations.create_unit(db.session, twin)) == {"kind"}
    same_code = operations.UnitFields(
        code="metz-TECHNIQUE", name="x", kind="jardins", agency_id=metz
    )
    assert _refused_field(lambda: operations.create_unit(db.session, same_code)) == {"code"}
    no_agency = operations.UnitFields(code="X", name="x", kind="jardins", agency_id=999999)
    assert _refused_field(lambda: operations.create_unit(db.session, no_agency)) == {"agency_id"}

    unit = world.units["METZ-technique"]
    assert catalogue_cache.catalogue(db.session).unit(unit.id).email is None  # now in memory
    db.session.commit()
    operations.update_unit(
        db.session,
        unit,
        operations.UnitFields(
            code="METZ-technique",
            name="Technique Metz",
            kind="technique",
            agency_id=metz,
            email=" Tech@Metz.test ",
        ),
    )
    db.session.commit()
    seen = catalogue_cache.catalogue(db.session).unit(unit.id)
    assert (seen.name, seen.email) == ("Technique Metz", "tech@metz.test")
