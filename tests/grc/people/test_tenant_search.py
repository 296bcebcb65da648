"""The call centre's search box."""

from __future__ import annotations

import pytest

from grc.people.search import normalise_phone, partial_phone_pattern
from tests.factories import claim_payload


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("+33612345678", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("0612345678", "+33612345678"),
        ("03 87 11 22 33", "+33387112233"),
        ("+49 30 1234567", "+49301234567"),
        ("12", None),
        ("hello", None),
    ],
)
def test_phone_normalisation(raw, expected):
    assert normalise_phone(raw) == expected


def _search(client, world, q, user="agent"):
    response = client.get("/api/v1/tenants", query_string={"q": q}, headers=world.headers(user))
    assert response.status_code == 200, response.json
    return response.json


@pytest.mark.parametrize(
    "q",
    ["06 12 34 56 78", "+33612345678", "0033 6 12 34 56 78", "06-12-34-56-78", "(0)6 12 34 56 78"],
)
def test_by_phone_in_any_format(client, world, q):
    results = _search(client, world, q)
    assert [r["tenant"]["id"] for r in results] == [world.tenants["TIL-11"].id]
    assert results[0]["matched_by"] == "phone"
    assert results[0]["tenant"]["phones"] == ["+33612345678"]


@pytest.mark.parametrize(
    ("typed", "pattern"),
    [
        ("06 12 3", "+336123%"),
        ("+33 6 12", "+33612%"),
        ("0033 6 12", "+33612%"),
        ("56 78", "%5678%"),
        ("56.78", "%5678%"),
        ("567", None),  # too few digits to be of use
        ("rue 12 34", None),
    ],
)
def test_part_of_a_number_as_typed(typed, pattern):
    assert partial_phone_pattern(typed) == pattern


@pytest.mark.parametrize(
    "q", ["06 12 34", "06 12 34 56 7", "+33 6 12 3", "0033 612", "56 78", "3456"]
)
def test_by_part_of_a_phone_number(client, world, q):
    results = _search(client, world, q)
    assert [r["tenant"]["id"] for r in results] == [world.tenants["TIL-11"].id]
    assert results[0]["matched_by"] == "phone"


def test_part_of_a_number_finds_every_tenant_holding_it(client, world):
    assert _search(client, world, "06 ") == []  # too short to search
    assert len(_search(client, world, "11 11")) == 1
    starts = {r["tenant"]["id"] for r in _search(client, world, "06 11")}
    assert starts == {world.tenants["HAUS-12"].id}


@pytest.mark.parametrize(
    "q", ["lefevre", "LEFÈVRE", "Lefev", "elodie", "élodie lefèvre", "lefevre elodie", "fèvre"]
)
def test_by_part_of_name_ignoring_accents_and_case(client, world, q):
    results = _search(client, world, q)
    assert [r["tenant"]["id"] for r in results] == [world.tenants["TIL-11"].id]
    assert results[0]["matched_by"] == "name"


def test_result_carries_the_current_dwelling(client, world):
    result = _search(client, world, "dupont")[0]
    dwelling = result["dwelling"]
    assert dwelling["id"] == world.dwellings["TIL-12"].id
    assert dwelling["address"] == "3 rue des Tilleuls, 57000 Metz"
    assert dwelling["residence"]["name"] == "Les Tilleuls"
    assert (dwelling["entrance"], dwelling["floor"], dwelling["door"]) == ("A", 1, "12")


def test_by_address(client, world):
    results = _search(client, world, "rue des tilleuls")
    assert {r["tenant"]["id"] for r in results} == {
        world.tenants["TIL-11"].id,
        world.tenants["TIL-12"].id,
    }
    assert {r["matched_by"] for r in results} == {"address"}
    assert {r["tenant"]["id"] for r in _search(client, world, "haussonville nancy")} == {
        world.tenants["HAUS-11"].id,
        world.tenants["HAUS-12"].id,
    }


def test_by_claim_reference(client, world):
    claim = client.post(
        "/api/v1/claims",
        json=claim_payload(world, dwelling_id=world.dwellings["PARC-12"].id),
        headers=world.headers("agent"),
    ).json
    for q in (claim["reference"], claim["reference"].lower()):
        results = _search(client, world, q)
        assert [r["tenant"]["id"] for r in results] == [world.tenants["PARC-12"].id]
        assert results[0]["matched_by"] == "reference"


def test_former_tenants_have_no_current_dwelling(client, world):
    from datetime import date

    from grc.extensions import db

    lease = world.tenants["BELL-12"].leases[0]
    lease.end_date = date(2021, 6, 30)
    db.session.commit()
    result = _search(client, world, "roux")[0]
    assert result["dwelling"] is None
    # …and do not come up by the address they left.
    assert world.tenants["BELL-12"].id not in [
        r["tenant"]["id"] for r in _search(client, world, "rue de belleville")
    ]


def test_a_tenant_who_moved_is_found_where_they_live_now(client, world):
    from datetime import date, timedelta

    from grc.clock import local_today
    from grc.db import utcnow
    from grc.extensions import db
    from grc.people.models import Lease, TenantPhone

    today = local_today(utcnow())
    tenant = world.tenants["BELL-12"]
    tenant.leases[0].end_date = today + timedelta(days=3)  # moving out this week
    tenant.phones.append(TenantPhone(number="+33387000000"))
    db.session.add_all(
        [
            Lease(
                reference="BAIL-MOVE",
                tenant=tenant,
                dwelling=world.dwellings["HAUS-11"],
                start_date=today - timedelta(days=2),
            ),
            Lease(
                reference="BAIL-LATER",
                tenant=tenant,
                dwelling=world.dwellings["PARC-11"],
                start_date=today + timedelta(days=60),
            ),
            Lease(
                reference="BAIL-1999",
                tenant=tenant,
                dwelling=world.dwellings["TIL-11"],
                start_date=date(1999, 1, 1),
                end_date=date(2004, 12, 31),
            ),
        ]
    )
    db.session.commit()
    (result,) = _search(client, world, "roux")
    assert result["dwelling"]["id"] == world.dwellings["HAUS-11"].id
    assert result["dwelling"]["lease_reference"] == "BAIL-MOVE"
    assert sorted(result["tenant"]["phones"]) == ["+33387000000", "+33633333333"]


def test_nothing_found_is_an_empty_list(client, world):
    assert _search(client, world, "zzzyyyxxx") == []
    assert _search(client, world, "07 99 99 99 99") == []
    assert _search(client, world, "R-1999-000001") == []


def _add_namesakes(count: int, start: int = 0) -> None:
    from grc.extensions import db
    from grc.people.models import Tenant, TenantPhone

    for i in range(start, start + count):
        tenant = Tenant(first_name=f"Prénom{i:02d}", last_name="Zorglub")
        tenant.refresh_search_name()
        tenant.phones.append(TenantPhone(number="+33699887766"))
        db.session.add(tenant)
    db.session.commit()


@pytest.mark.parametrize("q", ["zorglub", "06 99 88 77 66", "99 88 77"])
def test_search_says_when_it_cut_the_list(client, world, q):
    """Twenty matches are all shown; with a twenty-first, twenty are shown and the answer
    says the list was cut (the caller narrows the search instead of trusting it)."""
    _add_namesakes(20)
    whole = client.get("/api/v1/tenants", query_string={"q": q}, headers=world.headers("agent"))
    assert len(whole.json) == 20
    assert whole.headers["X-Results-Truncated"] == "false"

    _add_namesakes(1, start=20)
    cut = client.get("/api/v1/tenants", query_string={"q": q}, headers=world.headers("agent"))
    assert cut.status_code == 200
    assert len(cut.json) == 20
    assert cut.headers["X-Results-Truncated"] == "true"
    assert [r["tenant"]["id"] for r in cut.json] == [r["tenant"]["id"] for r in whole.json]

    few = client.get(
        "/api/v1/tenants", query_string={"q": "lefevre"}, headers=world.headers("agent")
    )
    assert few.headers["X-Results-Truncated"] == "false"


def test_the_truncation_header_is_documented(client):
    spec = client.get("/api/openapi.json").json
    answer = spec["paths"]["/api/v1/tenants"]["get"]["responses"]["200"]
    assert "X-Results-Truncated" in answer["headers"]
