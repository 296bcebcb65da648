"""Administrators configure units' routing rules and the catalogue; others only read."""

from __future__ import annotations

import pytest

from tests.factories import claim_payload

READERS = ["agent", "metz_tech", "manager", "admin"]


@pytest.mark.parametrize("role", READERS)
def test_everyone_reads_units_and_rules(client, world, role):
    units = client.get("/api/v1/units", headers=world.headers(role))
    assert units.status_code == 200
    codes = [u["code"] for u in units.json]
    assert len(codes) == 18
    assert codes[-3:] == ["ASTREINTE", "SINISTRES", "TRANQUILLITE"]  # company-wide last
    assert client.get("/api/v1/routing-rules", headers=world.headers(role)).status_code == 200


@pytest.mark.parametrize("role", ["agent", "metz_tech", "manager"])
def test_only_admins_change_configuration(client, world, role):
    headers = world.headers(role)
    rule = {"category": "VOI-BRUIT", "unit_id": world.units["METZ-proximite"].id}
    assert client.post("/api/v1/routing-rules", json=rule, headers=headers).status_code == 403
    assert (
        client.patch(
            "/api/v1/categories/VOI-BRUIT", json={"active": False}, headers=headers
        ).status_code
        == 403
    )
    existing = world.add_rule("VOI-BRUIT", "METZ-proximite")
    world.session.commit()
    assert client.delete(f"/api/v1/routing-rules/{existing.id}", headers=headers).status_code == 403


def test_a_rule_created_by_the_admin_routes_new_claims(client, world):
    admin = world.headers("admin")
    response = client.post(
        "/api/v1/routing-rules",
        json={
            "category": "VOI-BRUIT",
            "unit_id": world.units["METZ-proximite"].id,
            "agency_id": world.agencies["METZ"].id,
        },
        headers=admin,
    )
    assert response.status_code == 201, response.json
    rule = response.json
    assert (rule["category"], rule["unit"]["code"], rule["agency_id"]) == (
        "VOI-BRUIT",
        "METZ-proximite",
        world.agencies["METZ"].id,
    )

    claim = client.post(
        "/api/v1/claims",
        json=claim_payload(world, "VOI-BRUIT", description="Aboiements toute la nuit"),
        headers=world.headers("agent"),
    ).json
    assert claim["route"]["unit"]["code"] == "METZ-proximite"
    assert claim["route"]["reason_code"] == "rule"

    assert client.delete(f"/api/v1/routing-rules/{rule['id']}", headers=admin).status_code == 204
    assert client.get("/api/v1/routing-rules", headers=admin).json == []
    again = client.post(
        "/api/v1/claims",
        json=claim_payload(world, "VOI-BRUIT", description="Aboiements toute la nuit"),
        headers=world.headers("agent"),
    ).json
    assert again["route"]["unit"]["code"] == "TRANQUILLITE"
    assert client.delete(f"/api/v1/routing-rules/{rule['id']}", headers=admin).status_code == 404


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"category": "NOPE", "unit_id": 999999}, {"category", "unit_id"}),
        ({"category": "VOI-BRUIT", "unit_id": 1, "agency_id": 1, "territory_id": 1}, {"scope"}),
        ({"category": "VOI-BRUIT", "unit_id": 1, "residence_id": 999999}, {"residence_id"}),
        ({"unit_id": 1}, {"category"}),
    ],
)
def test_bad_rules_are_refused(client, world, body, fields):
    response = client.post("/api/v1/routing-rules", json=body, headers=world.headers("admin"))
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == fields
    assert client.get("/api/v1/routing-rules", headers=world.headers("admin")).json == []


def test_admin_changes_a_category(client, world):
    admin = world.headers("admin")
    response = client.patch(
        "/api/v1/categories/plb-robinet",
        json={"sla_policy": "PRIO", "default_priority": "high", "label_en": "Dripping tap"},
        headers=admin,
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["sla_policy"]["code"], body["default_priority"], body["label_en"]) == (
        "PRIO",
        "high",
        "Dripping tap",
    )
    assert body["label_fr"] == "Robinet ou joint qui goutte"  # unchanged

    retired = client.patch("/api/v1/categories/MEN-BAL", json={"active": False}, headers=admin)
    assert retired.status_code == 200
    codes = [c["code"] for c in client.get("/api/v1/categories", headers=admin).json]
    assert "MEN-BAL" not in codes
    claim = client.post(
        "/api/v1/claims", json=claim_payload(world, "MEN-BAL"), headers=world.headers("agent")
    )
    assert claim.status_code == 422
    assert claim.json["errors"]["json"]["category"] == ["Unknown category 'MEN-BAL'."]


def test_bad_category_changes(client, world):
    admin = world.headers("admin")
    assert (
        client.patch("/api/v1/categories/NOPE", json={"active": True}, headers=admin).status_code
        == 404
    )
    unknown_policy = client.patch(
        "/api/v1/categories/PLB-FUITE", json={"sla_policy": "ZZZ"}, headers=admin
    )
    assert unknown_policy.status_code == 422
    assert "sla_policy" in unknown_policy.json["errors"]["json"]
    assert (
        client.patch("/api/v1/categories/PLB-FUITE", json={"code": "X"}, headers=admin).status_code
        == 422
    )
