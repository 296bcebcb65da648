"""Bad input to the claims API: a clear 400/422 naming each bad field, never a 500, never a
half-written claim."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from grc.claims.models import Claim, ClaimEvent
from grc.clock import local_today
from grc.db import utcnow
from grc.extensions import db
from grc.people.models import Lease
from tests.factories import claim_payload


def _nothing_written() -> None:
    assert db.session.scalar(sa.select(sa.func.count(Claim.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(ClaimEvent.id))) == 0


def test_malformed_json_is_a_400(client, world):
    response = client.post(
        "/api/v1/claims",
        data=b'{"category": "PLB-FUITE",',
        content_type="application/json",
        headers=world.headers("agent"),
    )
    assert response.status_code == 400
    assert response.json["code"] == 400
    _nothing_written()


def test_json_that_is_not_an_object_is_refused(client, world):
    response = client.post("/api/v1/claims", json=["PLB-FUITE"], headers=world.headers("agent"))
    assert response.status_code == 422
    _nothing_written()


def test_missing_fields_are_each_named(client, world):
    response = client.post("/api/v1/claims", json={}, headers=world.headers("agent"))
    assert response.status_code == 422
    errors = response.json["errors"]["json"]
    assert {"category", "channel", "description"} <= set(errors)
    assert "location" in errors
    _nothing_written()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"category": "NOPE"}, "category", "Unknown category 'NOPE'."),
        ({"category": "PLB"}, "category", "'PLB' is a domain; pick one of its categories."),
        ({"channel": "pigeon"}, "channel", "Must be one of"),
        ({"description": "x" * 5001}, "description", "Length must be between 3 and 5000."),
        ({"description": ""}, "description", "Length must be between 3 and 5000."),
        ({"priority": "critical"}, "priority", "Must be one of"),
        ({"dwelling_id": 999999}, "dwelling_id", "No dwelling with id 999999."),
        ({"dwelling_id": "abc"}, "dwelling_id", "Not a valid integer."),
        ({"dwelling_id": -4}, "dwelling_id", "Must be greater than or equal to 1"),
        ({"dwelling_id": 2**40}, "dwelling_id", "less than or equal to 2147483647"),
        ({"description": "Fuite\x00"}, "description", "Control characters are not allowed."),
        ({"description": "   \n  "}, "description", "Describe the problem."),
        ({"tenant_id": 999999}, "tenant_id", "No tenant with id 999999."),
        ({"colour": "blue"}, "colour", "Unknown field."),
        ({"resolve_now": True}, "resolution", "A resolution is required to resolve at once."),
    ],
)
def test_each_bad_field_is_named(client, world, overrides, field, message):
    response = client.post(
        "/api/v1/claims", json=claim_payload(world, **overrides), headers=world.headers("agent")
    )
    assert response.status_code == 422, response.json
    assert any(message in m for m in response.json["errors"]["json"][field]), response.json
    _nothing_written()


def test_two_locations_are_refused(client, world):
    payload = claim_payload(world, building_id=world.buildings["TIL"].id)
    response = client.post("/api/v1/claims", json=payload, headers=world.headers("agent"))
    assert response.status_code == 422
    assert response.json["errors"]["json"]["location"] == [
        "Give exactly one of dwelling_id, building_id, equipment_id."
    ]
    _nothing_written()


def test_elevator_category_needs_an_elevator(client, world):
    payload = claim_payload(
        world, "ASC-PANNE", dwelling_id=None, equipment_id=world.equipment["TIL-BOIL"].id
    )
    response = client.post("/api/v1/claims", json=payload, headers=world.headers("agent"))
    assert response.status_code == 422
    assert response.json["errors"]["json"]["equipment_id"] == [
        "Equipment TIL-A-CHF is a boiler_room, not a elevator."
    ]
    _nothing_written()


def test_dwelling_category_needs_a_dwelling(client, world):
    payload = claim_payload(world, dwelling_id=None, building_id=world.buildings["TIL"].id)
    response = client.post("/api/v1/claims", json=payload, headers=world.headers("agent"))
    assert response.status_code == 422
    assert "dwelling_id" in response.json["errors"]["json"]


def test_tenant_must_live_in_the_dwelling(client, world):
    payload = claim_payload(world, tenant_id=world.tenants["PARC-11"].id)
    response = client.post("/api/v1/claims", json=payload, headers=world.headers("agent"))
    assert response.status_code == 422
    assert response.json["errors"]["json"]["tenant_id"] == [
        "This tenant has no current lease on that dwelling."
    ]
    _nothing_written()


def test_common_area_claim_from_a_dwelling_lands_on_its_building(client, world):
    payload = claim_payload(world, "PRO-PC", tenant_id=world.tenants["TIL-12"].id)
    response = client.post("/api/v1/claims", json=payload, headers=world.headers("agent"))
    assert response.status_code == 201, response.json
    location = response.json["location"]
    assert location["kind"] == "building"
    assert location["building_id"] == world.buildings["TIL"].id
    assert response.json["tenant_id"] == world.tenants["TIL-12"].id


def test_dwelling_claim_defaults_to_the_current_occupant(client, world):
    response = client.post(
        "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
    )
    assert response.json["tenant_id"] == world.tenants["TIL-11"].id


def test_the_occupant_is_the_holder_of_the_lease_current_today(client, world):
    dwelling = world.dwellings["TIL-11"]
    today = local_today(utcnow())
    former, future = world.tenants["TIL-12"], world.tenants["PARC-11"]
    db.session.add_all(
        [
            Lease(
                reference="BAIL-OLD",
                tenant=former,
                dwelling=dwelling,
                start_date=date(2015, 1, 1),
                end_date=date(2019, 12, 31),
            ),
            Lease(
                reference="BAIL-NEXT",
                tenant=future,
                dwelling=dwelling,
                start_date=today + timedelta(days=30),
            ),
        ]
    )
    db.session.commit()
    response = client.post(
        "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
    )
    assert response.json["tenant_id"] == world.tenants["TIL-11"].id
    # Naming the next tenant before their lease starts is refused, as is a stranger.
    for tenant_id in (future.id, former.id):
        refused = client.post(
            "/api/v1/claims",
            json=claim_payload(world, tenant_id=tenant_id),
            headers=world.headers("agent"),
        )
        assert refused.status_code == 422
        assert refused.json["errors"]["json"]["tenant_id"] == [
            "This tenant has no current lease on that dwelling."
        ]

    current = db.session.execute(
        sa.select(Lease)
        .where(Lease.reference != "BAIL-OLD", Lease.dwelling_id == dwelling.id)
        .where(Lease.reference != "BAIL-NEXT")
    ).scalar_one()
    current.end_date = today - timedelta(days=1)
    db.session.commit()
    vacant = client.post(
        "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
    )
    assert vacant.status_code == 201, vacant.json
    assert vacant.json["tenant_id"] is None


def test_the_named_occupant_is_acknowledged_on_their_phone(client, world, sent):
    response = client.post(
        "/api/v1/claims",
        json=claim_payload(world, tenant_id=world.tenants["TIL-11"].id),
        headers=world.headers("agent"),
    )
    assert response.status_code == 201, response.json
    assert response.json["tenant_id"] == world.tenants["TIL-11"].id
    (sms,) = [m for m in sent.sms if response.json["reference"] in m.body]
    assert sms.to == world.tenants["TIL-11"].phones[0].number


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "fly"}, "action"),
        ({}, "action"),
        ({"action": "resolve"}, "comment"),
        ({"action": "cancel", "comment": "   "}, "comment"),
        ({"action": "assign"}, "unit_id"),
        ({"action": "assign", "unit_id": 987654}, "unit_id"),
        ({"action": "start", "extra": 1}, "extra"),
    ],
)
def test_bad_transition_requests(client, world, body, field):
    created = client.post(
        "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
    ).json
    response = client.post(
        f"/api/v1/claims/{created['id']}/transitions", json=body, headers=world.headers("metz_tech")
    )
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]
    db.session.expire_all()
    assert db.session.get(Claim, created["id"]).status == "assigned"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"body": ""}, "body"),
        ({"body": "ok", "visibility": "public"}, "visibility"),
    ],
)
def test_bad_comments(client, world, body, field):
    created = client.post(
        "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
    ).json
    response = client.post(
        f"/api/v1/claims/{created['id']}/comments", json=body, headers=world.headers("agent")
    )
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]


def test_huge_claim_id_is_404(client, world):
    response = client.get("/api/v1/claims/99999999999", headers=world.headers("agent"))
    assert response.status_code == 404


def test_unknown_claim_is_404(client, world):
    for method, url, body in (
        ("get", "/api/v1/claims/424242", None),
        ("post", "/api/v1/claims/424242/transitions", {"action": "start"}),
        ("post", "/api/v1/claims/424242/comments", {"body": "Bonjour"}),
    ):
        response = getattr(client, method)(url, json=body, headers=world.headers("metz_tech"))
        assert response.status_code == 404
        assert response.json["message"] == "No claim with id 424242."


@pytest.mark.parametrize(
    "query",
    [
        "status=flying",
        "page_size=1000",
        "page=0",
        "overdue=maybe",
        "q=x",
        "unit_id=abc",
        "unit_id=99999999999",
        "q=ab%00cd",
    ],
)
def test_bad_list_filters(client, world, query):
    response = client.get(f"/api/v1/claims?{query}", headers=world.headers("manager"))
    assert response.status_code == 422, response.json


def test_tenant_search_needs_a_query(client, world):
    assert client.get("/api/v1/tenants", headers=world.headers("agent")).status_code == 422
    assert client.get("/api/v1/tenants?q=a", headers=world.headers("agent")).status_code == 422


def test_unknown_url_and_method_are_json(client, world):
    assert client.get("/api/v1/nothing", headers=world.headers("agent")).json["code"] == 404
    response = client.delete("/api/v1/claims", headers=world.headers("agent"))
    assert response.status_code == 405
    assert response.json["code"] == 405
