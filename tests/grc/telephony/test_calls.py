"""The console's side of incoming calls: who is waiting or being handled (with the tenants
holding the caller's number), one agent picking a call up, the claims registered during a
call; through the operations and the API, each endpoint scoped by role."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from grc.claims.models import Claim
from grc.db import utcnow
from grc.errors import Conflict
from grc.extensions import db
from grc.telephony import operations
from grc.telephony.models import Call, CallClaim, CallStatus
from tests.factories import claim_payload
from tests.grc.telephony.conftest import CALL_CENTRE_NUMBER, TENANT_NUMBER, new_sid


def _receive(caller: str | None = TENANT_NUMBER, *, ago: timedelta = timedelta(0)) -> Call:
    call = operations.receive_call(
        db.session, new_sid(), caller, CALL_CENTRE_NUMBER, utcnow() - ago
    )
    assert call is not None
    db.session.commit()
    return call


def _reload(call: Call) -> Call:
    db.session.expire_all()
    found = db.session.get(Call, call.id)
    assert found is not None
    return found


def _create_claim(client, world) -> int:
    response = client.post(
        "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


# --- operations --------------------------------------------------------------------------


def test_calls_in_progress_are_the_waiting_and_taken_ones_with_the_callers_tenants(world):
    known = _receive(TENANT_NUMBER, ago=timedelta(minutes=3))
    unknown = _receive("+33799999999", ago=timedelta(minutes=2))
    withheld = _receive("anonymous", ago=timedelta(minutes=1))
    taken = _receive("03 87 11 22 33")  # TIL-12's tenant, national form
    ended = _receive(TENANT_NUMBER)
    stale = _receive(TENANT_NUMBER, ago=operations.STALE_AFTER + timedelta(minutes=1))
    now = utcnow()
    operations.take_call(db.session, taken, world.users["agent"], now)
    operations.record_queue_result(db.session, ended.call_sid, "hangup", 5, now)
    db.session.commit()

    found = operations.calls_in_progress(db.session, utcnow())

    assert [f.call.id for f in found] == [known.id, unknown.id, withheld.id, taken.id]
    assert stale.id not in [f.call.id for f in found]  # its callbacks were lost
    by_id = {f.call.id: f for f in found}
    [tenant] = by_id[known.id].callers
    assert tenant.tenant.id == world.tenants["TIL-11"].id
    assert tenant.matched_by == "phone"
    assert tenant.lease is not None  # where the caller lives, for the agent
    assert by_id[unknown.id].callers == []
    assert by_id[withheld.id].callers == []
    assert [m.tenant.id for m in by_id[taken.id].callers] == [world.tenants["TIL-12"].id]
    assert by_id[taken.id].call.status == CallStatus.IN_PROGRESS
    assert by_id[known.id].elapsed_seconds >= 180


def test_a_second_agent_taking_a_call_is_refused_naming_who_has_it(world):
    call = _receive()
    first, second = world.users["agent"], world.users["agent2"]
    operations.take_call(db.session, call, first, utcnow())
    db.session.commit()

    with pytest.raises(Conflict, match="taken by Agent"):
        operations.take_call(db.session, call, second, utcnow())
    db.session.rollback()
    # The one who has it taking it again changes nothing.
    taken_at = _reload(call).taken_at
    operations.take_call(db.session, _reload(call), first, utcnow())
    assert (_reload(call).taken_by_id, _reload(call).taken_at) == (first.id, taken_at)


def test_a_call_that_is_over_cannot_be_taken(world):
    call = _receive()
    operations.record_queue_result(db.session, call.call_sid, "hangup", 12, utcnow())
    db.session.commit()
    with pytest.raises(Conflict, match="over"):
        operations.take_call(db.session, _reload(call), world.users["agent"], utcnow())


def test_a_server_clock_a_moment_behind_records_the_call_taken_and_over_on_arrival(world):
    """The callback reaches a web server whose clock is two seconds behind the one that
    recorded the call: the times stay in order rather than break a CHECK constraint."""
    call = _receive()
    behind = call.received_at - timedelta(seconds=2)
    operations.take_call(db.session, call, world.users["agent"], behind)
    operations.record_queue_result(db.session, call.call_sid, "queue-full", 0, behind)
    db.session.commit()
    over = _reload(call)
    assert over.status == CallStatus.ABANDONED
    assert over.taken_at == over.received_at
    assert over.ended_at == over.received_at


def test_a_claim_is_linked_to_a_call_once_and_a_call_may_lead_to_several(client, world):
    call = _receive()
    first, second = _create_claim(client, world), _create_claim(client, world)
    agent = world.users["agent"]
    claims = [db.session.get(Claim, first), db.session.get(Claim, second)]
    assert operations.link_claim(db.session, call, claims[0], agent, utcnow()) is True
    assert operations.link_claim(db.session, call, claims[0], agent, utcnow()) is False
    assert operations.link_claim(db.session, call, claims[1], agent, utcnow()) is True
    db.session.commit()
    links = db.session.execute(sa.select(CallClaim.claim_id).order_by(CallClaim.linked_at))
    assert sorted(links.scalars()) == [first, second]


@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        ({"status": "answered"}, "ended_iff_over"),
        ({"status": "waiting", "ended_at_offset": 1}, "ended_iff_over"),
        ({"status": "in_progress"}, "in_progress_is_taken"),
        ({"status": "waiting", "taken": True}, "waiting_not_taken"),
        ({"status": "abandoned", "ended_at_offset": -60}, "times_ordered"),
        ({"status": "waiting", "wait_seconds": -1}, "durations_positive"),
    ],
)
def test_the_database_keeps_status_and_times_in_agreement(world, values, constraint):
    now = utcnow()
    row = {
        "call_sid": new_sid(),
        "called_number": CALL_CENTRE_NUMBER,
        "received_at": now,
        "status": values["status"],
    }
    if "ended_at_offset" in values:
        row["ended_at"] = now + timedelta(seconds=values["ended_at_offset"])
    if values.get("taken"):
        row |= {"taken_at": now, "taken_by_id": world.users["agent"].id}
    if "wait_seconds" in values:
        row["wait_seconds"] = values["wait_seconds"]
    with pytest.raises(sa.exc.IntegrityError, match=constraint):
        db.session.execute(sa.insert(Call).values(row))
    db.session.rollback()


# --- API ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_agents_and_managers_see_the_calls_in_progress(client, world, role):
    call = _receive()
    response = client.get("/api/v1/calls?in_progress=true", headers=world.headers(role))
    assert response.status_code == 200
    [listed] = response.json
    assert listed["call"]["id"] == call.id
    assert listed["call"]["status"] == "waiting"
    assert listed["call"]["caller_number"] == TENANT_NUMBER
    [caller] = listed["callers"]
    assert caller["tenant"]["id"] == world.tenants["TIL-11"].id
    assert caller["dwelling"]["code"] == world.dwellings["TIL-11"].code


@pytest.mark.parametrize("role", ["metz_tech", "admin"])
def test_other_roles_may_not_see_or_handle_calls(client, world, role):
    call = _receive()
    headers = world.headers(role)
    assert client.get("/api/v1/calls?in_progress=true", headers=headers).status_code == 403
    assert client.post(f"/api/v1/calls/{call.id}/take", headers=headers).status_code == 403
    linked = client.post(f"/api/v1/calls/{call.id}/claims", json={"claim_id": 1}, headers=headers)
    assert linked.status_code == 403
    assert _reload(call).status == CallStatus.WAITING


def test_managers_read_calls_but_do_not_take_them(client, world):
    call = _receive()
    response = client.post(f"/api/v1/calls/{call.id}/take", headers=world.headers("manager"))
    assert response.status_code == 403
    assert _reload(call).taken_by_id is None


def test_without_a_token_the_calls_are_401(client, world):
    assert client.get("/api/v1/calls?in_progress=true").status_code == 401
    assert client.post("/api/v1/calls/1/take").status_code == 401


@pytest.mark.parametrize("query", ["", "?in_progress=false", "?in_progress=maybe"])
def test_the_listing_names_its_in_progress_argument(client, world, query):
    response = client.get(f"/api/v1/calls{query}", headers=world.headers("agent"))
    assert response.status_code == 422
    assert "in_progress" in response.json["errors"]["query"]


def test_an_agent_takes_a_call_and_a_second_one_gets_409_naming_the_first(client, world):
    call = _receive()
    taken = client.post(f"/api/v1/calls/{call.id}/take", headers=world.headers("agent"))
    assert taken.status_code == 200
    assert taken.json["status"] == "in_progress"
    assert taken.json["taken_by"] == {"id": world.users["agent"].id, "name": "Agent"}

    refused = client.post(f"/api/v1/calls/{call.id}/take", headers=world.headers("agent2"))
    assert refused.status_code == 409
    assert "taken by Agent" in refused.json["message"]
    assert (
        client.post("/api/v1/calls/999999/take", headers=world.headers("agent")).status_code == 404
    )


def test_two_agents_taking_one_call_at_once_only_one_wins(client, world, backend):
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers; concurrency is a PostgreSQL matter")
    call = _receive()
    barrier = threading.Barrier(2)
    answers: dict[str, int] = {}

    def take(agent: str) -> None:
        own = client.application.test_client()
        barrier.wait()
        answers[agent] = own.post(
            f"/api/v1/calls/{call.id}/take", headers=world.headers(agent)
        ).status_code

    threads = [threading.Thread(target=take, args=(a,)) for a in ("agent", "agent2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(answers.values()) == [200, 409]
    [winner] = [a for a, status in answers.items() if status == 200]
    assert _reload(call).taken_by_id == world.users[winner].id


def test_the_claims_registered_during_a_call_are_linked_once_each(client, world):
    call = _receive()
    first, second = _create_claim(client, world), _create_claim(client, world)
    headers = world.headers("agent")
    url = f"/api/v1/calls/{call.id}/claims"

    answers = [
        client.post(url, json={"claim_id": c}, headers=headers) for c in (first, first, second)
    ]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[-1].json["claim_ids"] == [first, second]
    assert client.post(url, json={"claim_id": 999999}, headers=headers).status_code == 404
    missing = client.post(url, json={}, headers=headers)
    assert missing.status_code == 422
    assert "claim_id" in missing.json["errors"]["json"]
    unknown_call = client.post(
        "/api/v1/calls/999999/claims", json={"claim_id": first}, headers=headers
    )
    assert unknown_call.status_code == 404


def test_the_claim_shows_the_call_it_was_registered_during(client, world):
    call = _receive()
    claim_id = _create_claim(client, world)
    headers = world.headers("agent")
    assert client.get(f"/api/v1/claims/{claim_id}", headers=headers).json["calls"] == []

    linked = client.post(
        f"/api/v1/calls/{call.id}/claims", json={"claim_id": claim_id}, headers=headers
    )
    assert linked.status_code == 200, linked.json

    [shown] = client.get(f"/api/v1/claims/{claim_id}", headers=headers).json["calls"]
    assert (shown["id"], shown["caller_number"]) == (call.id, TENANT_NUMBER)
