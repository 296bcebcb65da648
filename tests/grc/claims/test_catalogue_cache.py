"""The catalogue kept in memory between requests: any change to the tables it copies, by
whatever program, in whatever transaction, is seen by the next claim; and the copies are
frozen values, never handed to a session."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from grc.claims import catalogue_cache
from grc.claims.catalogue_cache import WATCHED_TABLES, catalogue
from grc.claims.models import (
    Category,
    Claim,
    RoutingRule,
    SlaPolicy,
    TreatmentUnit,
)
from grc.contracts.models import Contract, Contractor, contract_categories, contract_residences
from grc.extensions import db
from tests.factories import claim_payload


def stamp() -> str | None:
    return db.session.execute(sa.text("SELECT stamp FROM catalogue_versions")).scalar()


def post_claim(client, world, **overrides):
    response = client.post(
        "/api/v1/claims", json=claim_payload(world, **overrides), headers=world.headers("agent")
    )
    assert response.status_code == 201, response.json
    return response.json


def add_rule(world, unit: str, category: str = "PLB-FUITE", **scope: int) -> int:
    """A routing rule written by another program, on a connection of its own."""
    with db.engine.begin() as conn:
        return conn.execute(
            sa.insert(RoutingRule)
            .values(category_id=world.category(category).id, unit_id=world.units[unit].id, **scope)
            .returning(RoutingRule.id)
        ).scalar_one()


def test_the_cache_copies_only_watched_tables():
    loaded = {
        model.__table__.name
        for model in (Category, SlaPolicy, TreatmentUnit, RoutingRule, Contract, Contractor)
    } | {contract_residences.name, contract_categories.name}
    assert loaded == set(WATCHED_TABLES)


@pytest.mark.parametrize("table", WATCHED_TABLES)
def test_every_change_to_a_watched_table_changes_the_stamp(app_ctx, world, table):
    add_rule(world, "METZ-proximite")
    key = sa.inspect(db.metadata.tables[table]).primary_key.columns.values()[0].name
    before = stamp()
    changed = db.session.execute(sa.text(f"UPDATE {table} SET {key} = {key}")).rowcount  # noqa: S608
    assert changed > 0
    inside = stamp()
    db.session.commit()
    assert before is not None
    assert inside != before  # the transaction sees its own change at once
    assert stamp() == inside


def test_a_change_committed_elsewhere_reroutes_the_next_claim(client, world):
    # A leak at Le Parc goes to the agency's technical unit by default.
    route = post_claim(client, world, dwelling_id=world.dwellings["PARC-11"].id)["route"]
    assert route["unit"]["code"] == "WOIPPY-technique"
    rule_id = add_rule(world, "WOIPPY-proximite", agency_id=world.agencies["WOIPPY"].id)
    route = post_claim(client, world, dwelling_id=world.dwellings["PARC-11"].id)["route"]
    assert route["unit"]["code"] == "WOIPPY-proximite"
    assert f"Règle de routage n° {rule_id} (agence Woippy" in route["reason"]

    with db.engine.begin() as conn:
        conn.execute(sa.delete(RoutingRule).where(RoutingRule.id == rule_id))
    route = post_claim(client, world, dwelling_id=world.dwellings["PARC-11"].id)["route"]
    assert route["unit"]["code"] == "WOIPPY-technique"


def test_a_contract_ended_elsewhere_stops_covering_the_next_claim(client, world):
    assert post_claim(client, world)["route"]["kind"] == "contractor"
    with db.engine.begin() as conn:
        conn.execute(
            sa.delete(contract_residences).where(
                contract_residences.c.contract_id == world.contracts["MULTI"].id
            )
        )
    assert post_claim(client, world)["route"]["kind"] == "unit"


def test_a_category_deactivated_elsewhere_is_refused(client, world):
    post_claim(client, world)
    with db.engine.begin() as conn:
        conn.execute(sa.update(Category).where(Category.code == "PLB-FUITE").values(active=False))
    response = client.post(
        "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
    )
    assert response.status_code == 422
    assert "PLB-FUITE" in response.json["errors"]["json"]["category"][0]


def test_a_rolled_back_change_leaves_no_trace(app_ctx, world):
    leak = db.session.execute(sa.select(Category).where(Category.code == "PLB-FUITE")).scalar_one()
    leak.label_fr = "Libellé jamais validé"
    db.session.flush()
    assert catalogue(db.session).category("PLB-FUITE").label_fr == "Libellé jamais validé"
    db.session.rollback()
    assert catalogue(db.session).category("PLB-FUITE").label_fr == "Fuite d'eau active"


def test_an_unchanged_catalogue_is_not_read_again(client, world):
    post_claim(client, world)
    statements: list[str] = []

    def on_statement(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", on_statement)
    try:
        post_claim(client, world)
        post_claim(client, world, dwelling_id=world.dwellings["PARC-11"].id)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", on_statement)
    read = [
        s
        for s in statements
        if s.lstrip().upper().startswith("SELECT")
        and any(f"FROM {table}" in s for table in WATCHED_TABLES)
    ]
    assert read == []


def test_copies_are_frozen_values_and_a_claim_gets_rows_of_its_own(client, world):
    catalogue_cache.forget()  # this request loads the copies
    body = post_claim(client, world)
    claim = db.session.get(Claim, body["id"])
    snapshot = next(iter(catalogue_cache._snapshots.values()))
    shared = [
        *snapshot.categories.values(),
        *snapshot.units.values(),
        *snapshot.contracts,
        *(contract.contractor for contract in snapshot.contracts),
    ]
    for value in shared:
        assert dataclasses.is_dataclass(value)
        with pytest.raises(dataclasses.FrozenInstanceError):
            value.id = 0
    assert claim.category not in shared
    assert sa.inspect(claim.category).persistent
    assert claim.contract is not None
    assert sa.inspect(claim.contract).persistent
    assert claim.contract.contractor is claim.contractor


def test_a_category_carries_its_lineage_and_the_policy_in_force(app_ctx, world):
    current = catalogue(db.session)
    leak = current.category("PLB-FUITE")
    domain = current.category_by_id(leak.parent_id)
    assert leak.lineage == (leak, domain)
    assert leak.lineage_ids == (leak.id, domain.id)
    assert domain.lineage == (domain,)
    policy = db.session.get(Category, leak.id).sla_policy
    assert leak.effective_policy.code == policy.code
    # A category without a policy of its own follows its domain's.
    other = db.session.execute(
        sa.select(SlaPolicy).where(SlaPolicy.code != policy.code).limit(1)
    ).scalar_one()
    db.session.execute(sa.update(Category).where(Category.id == leak.id).values(sla_policy_id=None))
    db.session.execute(
        sa.update(Category).where(Category.id == domain.id).values(sla_policy_id=other.id)
    )
    assert catalogue(db.session).category("PLB-FUITE").effective_policy.code == other.code


def test_each_database_has_its_own_copy(app_ctx, world, tmp_path):
    """Two engines, even with no stamp row in either, never share a copy."""
    other = sa.create_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    db.metadata.create_all(other)
    with sa.orm.Session(other) as session:
        assert catalogue(session).category("PLB-FUITE") is None
    assert catalogue(db.session).category("PLB-FUITE") is not None
    other.dispose()


def test_the_intake_reads_the_stamp_once_and_the_token_check_not_at_all(client, world):
    post_claim(client, world)
    statements: list[str] = []

    def on_statement(conn, cursor, statement, *args) -> None:
        statements.append(" ".join(statement.split()))

    sa.event.listen(db.engine, "before_cursor_execute", on_statement)
    try:
        post_claim(client, world)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", on_statement)
    assert "api_tokens" in statements[0]
    assert "catalogue_versions" not in statements[0]
    assert len([s for s in statements if "catalogue_versions" in s]) == 1


@pytest.mark.parametrize("write", ["flush", "statement"])
def test_the_session_s_own_writes_are_seen_by_its_next_catalogue(app_ctx, world, write):
    assert catalogue(db.session).category("PLB-FUITE").label_fr == "Fuite d'eau active"
    leak = db.session.execute(sa.select(Category).where(Category.code == "PLB-FUITE")).scalar_one()
    if write == "flush":
        leak.label_fr = "Fuite d'eau"
        db.session.flush()
    else:
        db.session.execute(
            sa.text("UPDATE categories SET label_fr = 'Fuite d''eau' WHERE code = 'PLB-FUITE'")
        )
    assert catalogue(db.session).category("PLB-FUITE").label_fr == "Fuite d'eau"


@pytest.mark.parametrize("end", ["commit", "rollback"])
def test_each_transaction_reads_the_stamp_again(app_ctx, world, end):
    catalogue(db.session)
    getattr(db.session, end)()
    assert catalogue(db.session).stamp == stamp()
