"""GET /api/v1/claims: filters, free text, overdue, paging."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from freezegun import freeze_time

from tests.factories import claim_payload


def _create(client, world, **overrides):
    response = client.post(
        "/api/v1/claims", json=claim_payload(world, **overrides), headers=world.headers("agent")
    )
    assert response.status_code == 201, response.json
    return response.json


def _ids(client, world, query, user="manager"):
    response = client.get(f"/api/v1/claims?{query}", headers=world.headers(user))
    assert response.status_code == 200, response.json
    return [c["id"] for c in response.json]


def test_filters(client, world):
    leak = _create(client, world)
    noise = _create(
        client,
        world,
        category="VOI-BRUIT",
        description="Musique forte la nuit",
        dwelling_id=world.dwellings["PARC-11"].id,
    )
    rent = _create(
        client,
        world,
        category="LOC-AVIS",
        description="Montant de l'avis d'échéance",
        dwelling_id=world.dwellings["HAUS-11"].id,
    )
    client.post(
        f"/api/v1/claims/{rent['id']}/transitions",
        json={"action": "resolve", "comment": "Expliqué."},
        headers=world.headers("agent"),
    )

    assert _ids(client, world, "") == [rent["id"], noise["id"], leak["id"]]
    assert _ids(client, world, "status=resolved") == [rent["id"]]
    assert _ids(client, world, "status=assigned&status=resolved") == [
        rent["id"],
        noise["id"],
        leak["id"],
    ]
    assert _ids(client, world, "category=VOI-BRUIT") == [noise["id"]]
    assert _ids(client, world, "category=voi") == [noise["id"]]  # a domain selects its children
    assert _ids(client, world, f"agency_id={world.agencies['NANCY'].id}") == [rent["id"]]
    assert _ids(client, world, f"unit_id={world.units['tranquillite'].id}") == [noise["id"]]
    assert _ids(client, world, f"tenant_id={world.tenants['TIL-11'].id}") == [leak["id"]]
    assert _ids(client, world, f"q={leak['reference']}") == [leak["id"]]
    assert _ids(client, world, "q=musique") == [noise["id"]]
    assert _ids(client, world, "q=LEFEVRE") == [leak["id"]]  # tenant name, accents ignored
    assert _ids(client, world, "q=100%25") == []  # % is not a wildcard


def test_overdue(client, world):
    with freeze_time(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)):  # a Monday
        urgent = _create(client, world)  # 4 calendar hours
        standard = _create(client, world, category="PLB-ROBINET")
    with freeze_time(datetime(2026, 3, 2, 14, 0, tzinfo=UTC)):
        assert _ids(client, world, "overdue=true") == [urgent["id"]]
        assert _ids(client, world, "overdue=false") == [standard["id"]]
        client.post(
            f"/api/v1/claims/{urgent['id']}/transitions",
            json={"action": "wait_tenant", "comment": "Accès ?"},
            headers=world.headers("metz_tech"),
        )
        # A claim waiting for the tenant has its clock paused: not overdue.
        assert _ids(client, world, "overdue=true") == []


def test_paging(client, world):
    created = [_create(client, world)["id"] for _ in range(5)]
    response = client.get("/api/v1/claims?page=2&page_size=2", headers=world.headers("manager"))
    assert [c["id"] for c in response.json] == list(reversed(created))[2:4]
    paging = json.loads(response.headers["X-Pagination"])
    assert paging["total"] == 5
    assert paging["total_pages"] == 3
    assert paging["page"] == 2
