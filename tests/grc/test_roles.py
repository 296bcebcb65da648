"""Who may do what on every endpoint; another unit's claim is a 404, not a 403."""

from __future__ import annotations

from datetime import timedelta

import pytest

from grc.db import utcnow
from grc.extensions import db
from tests.factories import claim_payload

ROLES = ["agent", "metz_tech", "manager", "admin"]


@pytest.fixture
def metz_claim(client, world):
    response = client.post(
        "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
    )
    assert response.status_code == 201
    return response.json


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/categories",
        "/api/v1/tenants?q=dupont",
        "/api/v1/claims",
        "/api/v1/claims/1",
        "/api/v1/inbound-emails",
        "/api/v1/inbound-emails/1",
        "/api/v1/work-orders",
    ],
)
def test_no_or_bad_token_is_401(client, world, url):
    for headers in (
        {},
        {"Authorization": "Bearer grc_not-a-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_revoked_and_inactive_are_401(client, world):
    tokens = world.users["agent"].tokens
    tokens[0].expires_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    assert client.get("/api/v1/categories", headers=world.headers("agent")).status_code == 200
    tokens[0].expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/api/v1/categories", headers=world.headers("agent")).status_code == 401
    world.users["manager"].tokens[0].revoked_at = utcnow()
    world.users["admin"].active = False
    db.session.commit()
    assert client.get("/api/v1/categories", headers=world.headers("manager")).status_code == 401
    assert client.get("/api/v1/categories", headers=world.headers("admin")).status_code == 401


def test_tokens_are_stored_hashed(app_ctx, world):
    stored = world.users["agent"].tokens[0]
    assert world.tokens["agent"] not in (stored.token_hash, stored.prefix)
    assert len(stored.token_hash) == 64


@pytest.mark.parametrize("role", ROLES)
def test_everyone_reads_catalogue_and_searches_tenants(client, world, role):
    categories = client.get("/api/v1/categories", headers=world.headers(role))
    assert categories.status_code == 200
    assert len(categories.json) == 59
    assert client.get("/api/v1/tenants?q=dupont", headers=world.headers(role)).status_code == 200


@pytest.mark.parametrize(
    ("role", "status"), [("agent", 201), ("metz_tech", 403), ("manager", 403), ("admin", 403)]
)
def test_only_agents_create_claims(client, world, role, status):
    response = client.post("/api/v1/claims", json=claim_payload(world), headers=world.headers(role))
    assert response.status_code == status


@pytest.mark.parametrize(
    ("role", "status"),
    [("agent", 200), ("metz_tech", 200), ("woippy_tech", 404), ("manager", 200), ("admin", 200)],
)
def test_reading_one_claim(client, world, metz_claim, role, status):
    response = client.get(f"/api/v1/claims/{metz_claim['id']}", headers=world.headers(role))
    assert response.status_code == status


def test_unit_lists_only_its_own_queue(client, world, metz_claim):
    parc = client.post(
        "/api/v1/claims",
        json=claim_payload(world, dwelling_id=world.dwellings["PARC-11"].id),
        headers=world.headers("agent"),
    ).json
    metz = client.get("/api/v1/claims", headers=world.headers("metz_tech")).json
    woippy = client.get("/api/v1/claims", headers=world.headers("woippy_tech")).json
    everything = client.get("/api/v1/claims", headers=world.headers("manager")).json
    assert [c["id"] for c in metz] == [metz_claim["id"]]
    assert [c["id"] for c in woippy] == [parc["id"]]
    assert {c["id"] for c in everything} == {metz_claim["id"], parc["id"]}
    # Filtering on another unit does not widen a unit user's view.
    other = client.get(
        f"/api/v1/claims?unit_id={world.units['WOIPPY-technique'].id}",
        headers=world.headers("metz_tech"),
    ).json
    assert other == []


@pytest.mark.parametrize(
    ("role", "action", "status"),
    [
        ("agent", "start", 403),
        ("agent", "cancel", 200),
        ("agent", "resolve", 200),
        ("metz_tech", "start", 200),
        ("metz_tech", "resolve", 200),
        ("woippy_tech", "start", 404),
        ("manager", "start", 403),
        ("manager", "resolve", 403),
        ("admin", "start", 403),
        ("admin", "cancel", 403),
    ],
)
def test_transitions_by_role(client, world, metz_claim, role, action, status):
    claim = metz_claim
    if (role, action) == ("agent", "resolve"):
        # Resolved during the call: a question the agent can answer (an urgent leak cannot be).
        claim = client.post(
            "/api/v1/claims",
            json=claim_payload(world, "LOC-AVIS", description="Question sur l'avis d'échéance."),
            headers=world.headers("agent"),
        ).json
    response = client.post(
        f"/api/v1/claims/{claim['id']}/transitions",
        json={"action": action, "comment": "Traité."},
        headers=world.headers(role),
    )
    assert response.status_code == status, response.json


@pytest.mark.parametrize(
    ("role", "status"),
    [("agent", 201), ("metz_tech", 201), ("woippy_tech", 404), ("manager", 403), ("admin", 403)],
)
def test_comments_by_role(client, world, metz_claim, role, status):
    response = client.post(
        f"/api/v1/claims/{metz_claim['id']}/comments",
        json={"body": "Rappel du locataire.", "visibility": "tenant"},
        headers=world.headers(role),
    )
    assert response.status_code == status
    if status == 201:
        assert response.json["visibility"] == "tenant"
        assert response.json["actor"]["id"] == world.users[role].id


def test_allowed_actions_depend_on_role(client, world, metz_claim):
    as_unit = client.get(f"/api/v1/claims/{metz_claim['id']}", headers=world.headers("metz_tech"))
    as_agent = client.get(f"/api/v1/claims/{metz_claim['id']}", headers=world.headers("agent"))
    as_manager = client.get(f"/api/v1/claims/{metz_claim['id']}", headers=world.headers("manager"))
    assert as_unit.json["allowed_actions"] == [
        "assign",
        "start",
        "wait_tenant",
        "resolve",
        "cancel",
    ]
    assert as_agent.json["allowed_actions"] == ["assign", "resolve", "cancel"]
    assert as_manager.json["allowed_actions"] == []
