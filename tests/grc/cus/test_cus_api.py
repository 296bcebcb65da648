"""GET /api/v1/reports/cus: managers and administrators; the fixed data set's figures;
bad years and agencies are 422 naming the field."""

from __future__ import annotations

import pytest

from grc.clock import local_today
from tests.grc.cus.helpers import lift_breakdowns, responses

URL = "/api/v1/reports/cus"


@pytest.mark.parametrize(
    ("role", "status"), [("agent", 403), ("metz_tech", 403), ("manager", 200), ("admin", 200)]
)
def test_who_may_read(client, world, role, status):
    assert client.get(f"{URL}?year=2025", headers=world.headers(role)).status_code == status


def test_without_a_token_is_401(client, world):
    assert client.get(f"{URL}?year=2025").status_code == 401


def test_every_agency_and_the_landlord(client, world):
    lift_breakdowns(world)
    responses(world)
    body = client.get(f"{URL}?year=2025", headers=world.headers("manager")).json
    assert body["year"] == 2025
    assert body["start"] == "2025-01-01T00:00:00+01:00"
    assert body["complete"] is True
    assert [row["agency"]["code"] for row in body["agencies"]] == ["METZ", "NANCY", "WOIPPY"]
    metz = body["agencies"][0]
    assert metz["lift_breakdowns"] == {
        "long_per_lift": 1.5,
        "long_breakdowns": 3,
        "breakdowns": 4,
        "lifts": 2,
        "calls": 8,
    }
    assert metz["cleanliness"] is None
    nancy = body["agencies"][1]
    assert nancy["lift_breakdowns"]["long_per_lift"] is None
    assert nancy["response"] == {
        "on_time_rate": 1.0,
        "claims": 1,
        "on_time": 1,
        "late": 0,
        "pending": 0,
    }
    landlord = body["landlord"]
    assert landlord["lift_breakdowns"]["long_breakdowns"] == 4
    assert landlord["lift_breakdowns"]["lifts"] == 3
    assert landlord["lift_breakdowns"]["long_per_lift"] == pytest.approx(4 / 3)
    for key in ("claims", "on_time", "late", "pending"):
        assert landlord["response"][key] == sum(row["response"][key] for row in body["agencies"])
    assert landlord["cleanliness"] is None


def test_one_agency_with_the_landlord(client, world):
    lift_breakdowns(world)
    body = client.get(f"{URL}?year=2025&agency=woippy", headers=world.headers("manager")).json
    assert [row["agency"]["code"] for row in body["agencies"]] == ["WOIPPY"]
    assert body["agencies"][0]["lift_breakdowns"]["long_breakdowns"] == 1
    assert body["landlord"]["lift_breakdowns"]["long_breakdowns"] == 4


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "year"),
        ("year=deux-mille", "year"),
        ("year=1999", "year"),
        ("year=99999999999999999999", "year"),
        ("year=2025&agency=NOWHERE", "agency"),
        ("year=2025&agency=", "agency"),
    ],
)
def test_bad_input_names_its_field(client, world, query, field):
    response = client.get(f"{URL}?{query}", headers=world.headers("manager"))
    assert response.status_code == 422
    assert list(response.json["errors"]["query"]) == [field]


def test_a_year_to_come_is_refused(client, world):
    next_year = local_today().year + 1
    response = client.get(f"{URL}?year={next_year}", headers=world.headers("manager"))
    assert response.status_code == 422
    assert "year" in response.json["errors"]["query"]
