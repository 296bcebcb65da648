"""A tenant's newest claims, read through each kind's index with the limit inside, are the
same as all of them sorted then cut: their own claims and the claims they called about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from grc.claims import queries
from grc.claims.models import ClaimCaller, IntakeChannel
from grc.extensions import db
from tests.factories import claim_payload

MONDAY = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def _claim(client, world, dwelling: str, at: datetime) -> int:
    with freeze_time(at):
        response = client.post(
            "/api/v1/claims",
            json=claim_payload(world, dwelling_id=world.dwellings[dwelling].id),
            headers=world.headers("agent"),
        )
    assert response.status_code == 201, response.json
    return response.json["id"]


@pytest.mark.parametrize("who", ["agent", "metz_tech"])
def test_the_newest_are_those_of_the_whole_list(client, world, who):
    tenant = world.tenants["TIL-11"]
    other_dwelling = next(code for code in world.tenants if code != "TIL-11")
    own = [_claim(client, world, "TIL-11", MONDAY + timedelta(hours=h)) for h in range(0, 12, 2)]
    others = [
        _claim(client, world, other_dwelling, MONDAY + timedelta(hours=h)) for h in range(1, 12, 2)
    ]
    # The tenant called about three of their neighbour's claims, one of them twice.
    for claim_id in (others[0], others[3], others[3], others[5]):
        db.session.add(
            ClaimCaller(
                claim_id=claim_id,
                tenant_id=tenant.id,
                channel=IntakeChannel.PHONE,
                called_at=MONDAY + timedelta(days=1),
                recorded_by_id=world.users["agent"].id,
            )
        )
    db.session.commit()
    user = world.users[who]

    def ids(statement: sa.Select) -> list[tuple[int, str]]:
        return [(claim.id, relation) for claim, relation in db.session.execute(statement)]

    everything = ids(queries.tenant_claims(user, tenant.id))
    assert {claim_id for claim_id, _ in everything} == {*own, others[0], others[3], others[5]}
    assert [relation for claim_id, relation in everything if claim_id in own] == ["tenant"] * 6
    for newest in (1, 3, 5, 9, 20):
        cut = ids(queries.tenant_claims(user, tenant.id, newest=newest).limit(newest))
        assert cut == everything[:newest], newest
