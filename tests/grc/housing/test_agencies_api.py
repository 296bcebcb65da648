"""Agencies: every staff role reads them, an administrator sets the on-call number."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from grc.extensions import db
from grc.housing.models import Agency
from grc.messaging.models import OutboxMessage, Purpose
from tests.factories import claim_payload

SATURDAY_NIGHT = "2026-03-14T22:30:00+00:00"


def _patch(client, world, payload, user="admin", agency="METZ"):
    return client.patch(
        f"/api/v1/agencies/{world.agencies[agency].id}", json=payload, headers=world.headers(user)
    )


@pytest.mark.parametrize("user", ["agent", "metz_tech", "manager", "admin"])
def test_every_staff_role_lists_the_agencies(client, world, user):
    response = client.get("/api/v1/agencies", headers=world.headers(user))
    assert response.status_code == 200
    metz = next(a for a in response.json if a["code"] == "METZ")
    assert set(metz) == {"id", "code", "name", "territory", "on_call_name", "on_call_phone"}
    assert metz["on_call_phone"] is None
    assert client.get("/api/v1/agencies").status_code == 401


@pytest.mark.parametrize("raw", ["06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678"])
def test_admin_sets_the_on_call_number_in_any_format(client, world, raw):
    response = _patch(client, world, {"on_call_phone": raw, "on_call_name": "Astreinte Metz"})
    assert response.status_code == 200, response.json
    assert response.json["on_call_phone"] == "+33612345678"
    assert response.json["on_call_name"] == "Astreinte Metz"
    db.session.expire_all()
    assert db.session.get(Agency, world.agencies["METZ"].id).on_call_phone == "+33612345678"


def test_the_number_set_is_the_one_alerted(client, world, sent):
    assert _patch(client, world, {"on_call_phone": "07 11 22 33 44"}).status_code == 200
    with freeze_time(SATURDAY_NIGHT):
        created = client.post(
            "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
        )
    assert created.status_code == 201, created.json
    [alert] = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.purpose == Purpose.ON_CALL_ALERT)
    ).all()
    assert alert.recipient == "+33711223344"

    assert _patch(client, world, {"on_call_phone": None}).json["on_call_phone"] is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"on_call_phone": "12"}, "on_call_phone"),
        ({"on_call_phone": "06 12 34"}, "on_call_phone"),
        ({"on_call_phone": "bonjour"}, "on_call_phone"),
        ({"on_call_phone": "03 87 12 34 56"}, "on_call_phone"),  # a landline gets no text
        ({"on_call_phone": 612345678}, "on_call_phone"),
        ({"on_call_phone": "06 12 34 56 78\u0000"}, "on_call_phone"),
        ({"on_call_name": ""}, "on_call_name"),
        ({"on_call_name": "x" * 121}, "on_call_name"),
        ({"territory": "MM"}, "territory"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, world, payload, field):
    response = _patch(client, world, {"on_call_phone": "06 12 34 56 78"})
    assert response.status_code == 200
    refused = _patch(client, world, payload)
    assert refused.status_code == 422, refused.json
    assert field in refused.json["errors"]["json"]
    db.session.expire_all()
    assert db.session.get(Agency, world.agencies["METZ"].id).on_call_phone == "+33612345678"


@pytest.mark.parametrize("user", ["agent", "metz_tech", "manager"])
def test_only_an_admin_changes_an_agency(client, world, user):
    refused = _patch(client, world, {"on_call_phone": "06 12 34 56 78"}, user=user)
    assert refused.status_code == 403
    db.session.expire_all()
    assert db.session.get(Agency, world.agencies["METZ"].id).on_call_phone is None


def test_unknown_agency_is_a_404(client, world):
    response = client.patch(
        "/api/v1/agencies/999999", json={"on_call_phone": None}, headers=world.headers("admin")
    )
    assert response.status_code == 404


def test_the_demo_numbers_are_accepted_as_they_are_shown(client, world):
    """The demo's on-call numbers (range kept for fiction) pass the API's own rule."""
    response = _patch(client, world, {"on_call_phone": "+33639980001"})
    assert response.status_code == 200, response.json
