"""What every API endpoint does with its arguments before any view runs: a body that is not
JSON, a lone surrogate in any JSON string, a page beyond any page (grc.arguments)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from grc.arguments import LONE_SURROGATE_MESSAGE, MAX_PAGE, Blueprint
from grc.claims.models import Claim, ClaimEvent
from grc.extensions import db
from tests.factories import claim_payload

LONE = "Fuite \ud800 sous l'évier"


def _claim(client, world) -> dict[str, Any]:
    response = client.post(
        "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
    )
    assert response.status_code == 201, response.json
    return response.json


def _counts() -> tuple[int, int]:
    db.session.expire_all()
    claims = db.session.execute(sa.select(sa.func.count()).select_from(Claim)).scalar_one()
    events = db.session.execute(sa.select(sa.func.count()).select_from(ClaimEvent)).scalar_one()
    return claims, events


# (role, method, path with {claim} for an existing claim's id, body, the field named)
SURROGATE_CASES = [
    ("agent", "post", "/api/v1/claims", {"description": LONE}, ("description",)),
    ("agent", "post", "/api/v1/claims/{claim}/comments", {"body": LONE}, ("body",)),
    (
        "agent",
        "post",
        "/api/v1/claims/{claim}/appointment",
        {"at": "2026-03-12T14:00:00+01:00", "note": LONE},
        ("note",),
    ),
    (
        "agent",
        "post",
        "/api/v1/claims/{claim}/transitions",
        {"action": "cancel", "comment": LONE},
        ("comment",),
    ),
    ("admin", "patch", "/api/v1/categories/PLB-FUITE", {"label_fr": LONE}, ("label_fr",)),
    (
        "admin",
        "post",
        "/api/v1/routing-rules",
        {"category": "PLB\ud800", "unit_id": 1},
        ("category",),
    ),
    ("agent", "post", "/api/v1/inbound-emails/1/attach", {"claim_id": 1, "x": LONE}, ("x",)),
    (
        "agent",
        "post",
        "/api/v1/inbound-emails/1/register",
        {"category": "PLB-FUITE", "description": LONE},
        ("description",),
    ),
    # Wherever it sits: inside a list, or in a key.
    ("agent", "post", "/api/v1/claims", {"tags": ["ok", LONE]}, ("tags", "1")),
    ("agent", "post", "/api/v1/claims", {"n\ud800": "x"}, ("n\ufffd",)),
]


@pytest.mark.parametrize(
    ("role", "method", "path", "extra", "field"),
    SURROGATE_CASES,
    ids=[f"{c[1]} {c[2]} {'.'.join(c[4])}" for c in SURROGATE_CASES],
)
def test_a_lone_surrogate_in_any_json_text_is_a_422_naming_the_field(
    client, world, role, method, path, extra, field
):
    claim = _claim(client, world)
    body = {**claim_payload(world), **extra} if path == "/api/v1/claims" else extra
    before = _counts()
    response = getattr(client, method)(
        path.format(claim=claim["id"]), json=body, headers=world.headers(role)
    )
    assert response.status_code == 422, response.json
    errors = response.json["errors"]["json"]
    for name in field:
        errors = errors[name]
    assert errors == [LONE_SURROGATE_MESSAGE]
    assert _counts() == before  # nothing written


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ({"category": "PLB-FUITE", "channel": "phone", "description": "Fuite"}, None),  # a form
        ('{"category": "PLB-FUITE"}', "text/plain"),
        ("category=PLB-FUITE", "application/x-www-form-urlencoded"),
    ],
    ids=["multipart-form", "text-plain", "urlencoded"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/claims"),
        ("post", "/api/v1/claims/{claim}/comments"),
        ("post", "/api/v1/claims/{claim}/transitions"),
        ("patch", "/api/v1/categories/PLB-FUITE"),
    ],
)
def test_a_json_endpoint_given_another_body_says_it_must_be_json(
    client, world, data, content_type, method, path
):
    claim = _claim(client, world)
    headers = world.headers("admin" if "categories" in path else "agent")
    if content_type:
        headers["Content-Type"] = content_type
    before = _counts()
    response = getattr(client, method)(path.format(claim=claim["id"]), data=data, headers=headers)
    assert response.status_code == 415, response.json
    assert "application/json" in response.json["message"]
    assert _counts() == before


def test_a_json_body_still_works_with_a_charset(client, world):
    response = client.post(
        "/api/v1/claims",
        data=json.dumps(claim_payload(world)),
        headers={**world.headers("agent"), "Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201, response.json


LISTS = ["/api/v1/claims", "/api/v1/messages", "/api/v1/inbound-emails", "/api/v1/work-orders"]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=9223372036854775808", "page"),
        (f"page={MAX_PAGE + 1}", "page"),
        ("page=-1", "page"),
        ("page=0", "page"),
        ("page_size=100000000000000000000", "page_size"),
        ("page_size=-5", "page_size"),
    ],
)
def test_a_page_beyond_any_page_is_a_422_naming_it(client, world, path, query, field):
    response = client.get(f"{path}?{query}", headers=world.headers("admin"))
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]["query"]) == [field]


@pytest.mark.parametrize("path", LISTS)
def test_the_last_possible_page_is_simply_empty(client, world, path):
    response = client.get(f"{path}?page={MAX_PAGE}&page_size=100", headers=world.headers("admin"))
    assert response.status_code == 200, response.json
    assert response.json == []


def test_every_api_blueprint_reads_its_arguments_with_grc_parsers(app: Flask):
    import flask_smorest

    api_blueprints = [
        bp for bp in app.blueprints.values() if isinstance(bp, flask_smorest.Blueprint)
    ]
    assert len(api_blueprints) >= 5
    assert all(isinstance(bp, Blueprint) for bp in api_blueprints)
