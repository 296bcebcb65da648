"""The reports through the API: who may read them, their JSON, and each bad filter named."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from tests.grc.reports.dataset import NOW, build

WEEK = {"from": "2026-03-09", "to": "2026-03-15"}


@pytest.mark.parametrize(
    ("user", "status"), [("manager", 200), ("admin", 200), ("agent", 403), ("metz_tech", 403)]
)
def test_managers_read_reports(client, world, user, status):
    response = client.get("/api/v1/reports/volumes", headers=world.headers(user))
    assert response.status_code == status


def test_a_report_as_json(client, world):
    build(world)
    with freeze_time(NOW):
        response = client.get(
            "/api/v1/reports/backlog",
            query_string=WEEK | {"agency": "NANCY"},
            headers=world.headers("manager"),
        )
    assert response.status_code == 200, response.json
    body = response.json
    assert body["report"] == "backlog"
    assert body["filters"]["agency"] == "NANCY"
    assert body["rows"] == [
        {
            "code": "NANCY-technique",
            "label": "Technique Nancy",
            "under_2_days": 1,
            "2_to_7_days": 0,
            "8_to_30_days": 0,
            "over_30_days": 0,
            "open": 1,
            "overdue": 1,
        }
    ]
    assert body["total"]["open"] == 1


def test_an_unknown_report_is_not_found(client, world):
    response = client.get("/api/v1/reports/nope", headers=world.headers("manager"))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-03-10", "to": "2026-03-01"}, "to"),
        ({"from": "2023-01-01", "to": "2026-03-01"}, "to"),
        ({"agency": "LYON"}, "agency"),
        ({"territory": "XX"}, "territory"),
        ({"residence": "NOPE"}, "residence"),
        ({"category": "NOPE"}, "category"),
        ({"channel": "pigeon"}, "channel"),
        ({"unit": "NOPE"}, "unit"),
        ({"contractor": "NOPE"}, "contractor"),
        ({"bucket": "year"}, "bucket"),
        ({"by": "colour"}, "by"),
        ({"territory": "MM", "agency": "METZ"}, "agency"),
    ],
)
def test_each_bad_filter_is_named(client, world, args, field):
    response = client.get(
        "/api/v1/reports/volumes", query_string=args, headers=world.headers("manager")
    )
    assert response.status_code == 422, response.json
    # Read by the schema ("query") or found unknown in the database ("json"): named either way.
    errors = response.json["errors"]
    assert field in errors.get("query", errors.get("json"))


def test_a_grouping_the_report_does_not_take_is_named(client, world):
    response = client.get(
        "/api/v1/reports/calls-by-agent",
        query_string={"by": "agent"},
        headers=world.headers("manager"),
    )
    assert response.status_code == 200
    response = client.get(
        "/api/v1/reports/satisfaction",
        query_string={"by": "agent"},
        headers=world.headers("manager"),
    )
    assert response.status_code == 422
    assert "by" in response.json["errors"]["json"]
