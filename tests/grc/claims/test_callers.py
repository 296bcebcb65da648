"""One breakdown, many calls: the open claims a new one may duplicate, further callers
recorded on a claim, told of its resolution, and the claims a tenant called about."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from grc.claims.models import ClaimCaller, ClaimEvent, ClaimStatus, EventKind, Visibility
from grc.extensions import db
from grc.messaging.models import MessageChannel, OutboxMessage, Purpose
from grc.people.models import Channel
from tests.factories import claim_payload
from tests.grc.claims.helpers import claim_in_status

WEEKDAY_MORNING = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Paris


def _create(client, world, **overrides):
    response = client.post(
        "/api/v1/claims", json=claim_payload(world, **overrides), headers=world.headers("agent")
    )
    assert response.status_code == 201, response.json
    return response.json


def _hall_door(client, world, building="TIL", tenant="TIL-11", **overrides):
    """A building-level claim: the entrance door no longer closes."""
    return _create(
        client,
        world,
        category="MEN-PORTE-HALL",
        description="La porte du hall ne ferme plus.",
        dwelling_id=None,
        building_id=world.buildings[building].id,
        tenant_id=world.tenants[tenant].id,
        **overrides,
    )


def _similar(client, world, user="agent", **query):
    response = client.get("/api/v1/claims/similar", query_string=query, headers=world.headers(user))
    assert response.status_code == 200, response.json
    return [c["reference"] for c in response.json]


def _category_id(world, code):
    return world.category(code).id


def _attach(client, world, reference, tenant, user="agent", **extra):
    return client.post(
        f"/api/v1/claims/{reference}/callers",
        json={"tenant_id": world.tenants[tenant].id, **extra},
        headers=world.headers(user),
    )


def _resolve(client, world, claim, user="metz_tech"):
    response = client.post(
        f"/api/v1/claims/{claim['id']}/transitions",
        json={"action": "resolve", "comment": "Ferme-porte remplacé."},
        headers=world.headers(user),
    )
    assert response.status_code == 200, response.json


@freeze_time(WEEKDAY_MORNING)
def test_similar_open_claims_same_building_and_category(client, world):
    first = _hall_door(client, world)
    second = _hall_door(client, world, tenant="TIL-12")
    # Not the same breakdown: another building, another category, a claim no longer open.
    _hall_door(client, world, building="PARC", tenant="PARC-11")
    _create(
        client,
        world,
        category="MEN-BAL",
        description="Boîte aux lettres forcée.",
        dwelling_id=None,
        building_id=world.buildings["TIL"].id,
    )
    cancelled = _hall_door(client, world)
    client.post(
        f"/api/v1/claims/{cancelled['id']}/transitions",
        json={"action": "cancel", "comment": "Doublon."},
        headers=world.headers("agent"),
    )

    door = _category_id(world, "MEN-PORTE-HALL")
    til = world.buildings["TIL"].id
    # Most recent first.
    assert _similar(client, world, building_id=til, category_id=door) == [
        second["reference"],
        first["reference"],
    ]
    # A tenant calling from their dwelling is in its building.
    assert _similar(client, world, dwelling_id=world.dwellings["TIL-12"].id, category_id=door) == [
        second["reference"],
        first["reference"],
    ]
    assert _similar(client, world, building_id=world.buildings["HAUS"].id, category_id=door) == []
    assert _similar(client, world, building_id=til, category_id=_category_id(world, "PRO-PC")) == []


@freeze_time(WEEKDAY_MORNING)
def test_similar_open_claims_on_the_same_equipment(client, world):
    elevator = world.equipment["TIL-ELEV"]
    breakdown = _create(
        client,
        world,
        category="ASC-PANNE",
        description="Ascenseur bloqué au 3e.",
        dwelling_id=None,
        equipment_id=elevator.id,
    )
    noisy = _create(
        client,
        world,
        category="ASC-DYSFONCT",
        description="L'ascenseur fait un bruit de frottement.",
        dwelling_id=None,
        equipment_id=elevator.id,
    )
    _create(  # the other residence's elevator
        client,
        world,
        category="ASC-PANNE",
        description="Ascenseur en panne.",
        dwelling_id=None,
        equipment_id=world.equipment["PARC-ELEV"].id,
    )
    panne = _category_id(world, "ASC-PANNE")
    # Whatever is said about the same elevator may be the same breakdown.
    assert _similar(client, world, equipment_id=elevator.id, category_id=panne) == [
        noisy["reference"],
        breakdown["reference"],
    ]
    assert _similar(client, world, equipment_id=elevator.id) == [
        noisy["reference"],
        breakdown["reference"],
    ]
    assert _similar(client, world, equipment_id=world.equipment["TIL-BOIL"].id) == []


@freeze_time(WEEKDAY_MORNING)
def test_similar_dwelling_claims_are_the_same_dwellings(client, world):
    mine = _create(client, world)  # a leak in TIL-11
    _create(client, world, dwelling_id=world.dwellings["TIL-12"].id)  # the neighbour's
    leak = _category_id(world, "PLB-FUITE")
    assert _similar(client, world, dwelling_id=world.dwellings["TIL-11"].id, category_id=leak) == [
        mine["reference"]
    ]


def test_similar_at_most_ten_newest_first(app_ctx, world):
    from grc.claims.queries import SimilarClaimsQuery, similar_open_claims

    claims = []
    for day in range(1, 13):
        with freeze_time(datetime(2026, 3, day, 9, 0, tzinfo=UTC)):
            claims.append(claim_in_status(world, ClaimStatus.ASSIGNED))
    query = SimilarClaimsQuery(
        dwelling_id=world.dwellings["TIL-11"].id, category_id=_category_id(world, "PLB-FUITE")
    )
    found = similar_open_claims(db.session, world.users["agent"], query)
    assert [c.id for c in found] == [c.id for c in reversed(claims)][:10]


@freeze_time(WEEKDAY_MORNING)
def test_similar_is_scoped_to_what_the_user_sees(client, world):
    door = _hall_door(client, world)  # Metz's technical unit
    query = {
        "building_id": world.buildings["TIL"].id,
        "category_id": _category_id(world, "MEN-PORTE-HALL"),
    }
    assert _similar(client, world, "metz_tech", **query) == [door["reference"]]
    assert _similar(client, world, "woippy_tech", **query) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"building_id": "{TIL}"}, "category_id"),  # nothing to compare with
        ({"category_id": "{DOOR}"}, "location"),
        ({"building_id": 999999, "category_id": "{DOOR}"}, "building_id"),
        ({"dwelling_id": 999999, "category_id": "{DOOR}"}, "dwelling_id"),
        ({"equipment_id": 999999}, "equipment_id"),
        ({"building_id": "{TIL}", "category_id": 999999}, "category_id"),
        ({"building_id": "{TIL}", "category_id": "{DOMAIN}"}, "category_id"),
        (
            {"building_id": "{PARC}", "dwelling_id": "{TIL-11}", "category_id": "{DOOR}"},
            "building_id",
        ),
        ({"building_id": "abc"}, "building_id"),
    ],
)
def test_similar_names_bad_fields(client, world, query, field):
    values = {
        "{TIL}": world.buildings["TIL"].id,
        "{PARC}": world.buildings["PARC"].id,
        "{TIL-11}": world.dwellings["TIL-11"].id,
        "{DOOR}": _category_id(world, "MEN-PORTE-HALL"),
        "{DOMAIN}": _category_id(world, "MEN"),
    }
    query = {name: values.get(value, value) for name, value in query.items()}
    response = client.get(
        "/api/v1/claims/similar", query_string=query, headers=world.headers("agent")
    )
    assert response.status_code == 422, response.json
    errors = response.json["errors"]
    assert field in errors.get("json", errors.get("query", {})), errors


def _calls(claim_id):
    return list(
        db.session.execute(
            sa.select(ClaimCaller).where(ClaimCaller.claim_id == claim_id).order_by(ClaimCaller.id)
        ).scalars()
    )


def _caller_events(claim_id):
    return list(
        db.session.execute(
            sa.select(ClaimEvent)
            .where(ClaimEvent.claim_id == claim_id, ClaimEvent.kind == EventKind.CALLER)
            .order_by(ClaimEvent.id)
        ).scalars()
    )


@freeze_time(WEEKDAY_MORNING)
def test_attach_records_the_call_and_its_event(client, world):
    door = _hall_door(client, world)
    neighbour = world.tenants["TIL-12"]

    response = _attach(client, world, door["reference"], "TIL-12", note="Appelle depuis le 2e.")
    assert response.status_code == 201, response.json
    assert response.json["claim_reference"] == door["reference"]
    assert response.json["tenant"] == {"id": neighbour.id, "name": neighbour.full_name}
    assert response.json["channel"] == "phone"
    assert response.json["recorded_by"]["id"] == world.users["agent"].id

    [call] = _calls(door["id"])
    assert (call.tenant_id, call.channel, call.note) == (
        neighbour.id,
        "phone",
        "Appelle depuis le 2e.",
    )
    assert call.called_at == WEEKDAY_MORNING
    assert call.recorded_by_id == world.users["agent"].id
    [event] = _caller_events(door["id"])
    assert event.body.startswith(f"Appel n° 2 pour cette panne : {neighbour.full_name}")
    assert "Appelle depuis le 2e." in event.body
    # Another tenant's name: never on the claim's tenant's side of the timeline.
    assert event.visibility == Visibility.INTERNAL
    assert event.actor_id == world.users["agent"].id
    assert event.changes["claim_caller_id"] == call.id

    # The claim's detail shows the call on its timeline.
    detail = client.get(f"/api/v1/claims/{door['id']}", headers=world.headers("agent")).json
    assert "caller" in [e["kind"] for e in detail["events"]]


@freeze_time(WEEKDAY_MORNING)
def test_the_same_caller_again_is_a_further_call(client, world):
    door = _hall_door(client, world)
    assert _attach(client, world, door["reference"], "TIL-12").status_code == 201
    again = _attach(client, world, door["reference"].lower(), "TIL-12", channel="desk")
    assert again.status_code == 201, again.json
    assert [c.channel for c in _calls(door["id"])] == ["phone", "desk"]
    assert [e.changes["call_number"] for e in _caller_events(door["id"])] == [2, 3]
    # Countable apart: one breakdown, three calls (its intake and two more).
    breakdowns, calls = db.session.execute(
        sa.select(
            sa.func.count(sa.distinct(ClaimCaller.claim_id)), 1 + sa.func.count(ClaimCaller.id)
        ).where(ClaimCaller.claim_id == door["id"])
    ).one()
    assert (breakdowns, calls) == (1, 3)


@pytest.mark.parametrize(
    "status", [ClaimStatus.RESOLVED, ClaimStatus.CLOSED, ClaimStatus.CANCELLED]
)
def test_attach_only_on_an_open_claim(client, world, status):
    claim = claim_in_status(world, status)
    response = _attach(client, world, claim.reference, "TIL-12")
    assert response.status_code == 409, response.json
    assert _calls(claim.id) == []


@freeze_time(WEEKDAY_MORNING)
def test_attach_is_scoped_and_checked(client, world):
    door = _hall_door(client, world)  # Metz's technical unit
    assert (
        _attach(client, world, door["reference"], "TIL-12", user="woippy_tech").status_code == 404
    )
    assert _attach(client, world, "R-2026-999999", "TIL-12").status_code == 404
    assert _attach(client, world, "not-a-reference", "TIL-12").status_code == 404
    assert _attach(client, world, door["reference"], "TIL-12", user="manager").status_code == 403
    # The unit handling it may record a call taken at its desk.
    desk = _attach(client, world, door["reference"], "TIL-12", user="metz_tech", channel="desk")
    assert desk.status_code == 201, desk.json

    bad = client.post(
        f"/api/v1/claims/{door['reference']}/callers",
        json={"tenant_id": 999999},
        headers=world.headers("agent"),
    )
    assert bad.status_code == 422
    assert "tenant_id" in bad.json["errors"]["json"]
    bad = client.post(
        f"/api/v1/claims/{door['reference']}/callers",
        json={"channel": "pigeon"},
        headers=world.headers("agent"),
    )
    assert bad.status_code == 422
    assert {"tenant_id", "channel"} <= set(bad.json["errors"]["json"])
    assert len(_calls(door["id"])) == 1


def _resolved_messages(claim_id):
    return list(
        db.session.execute(
            sa.select(OutboxMessage)
            .where(OutboxMessage.claim_id == claim_id, OutboxMessage.purpose == Purpose.RESOLVED)
            .order_by(OutboxMessage.id)
        ).scalars()
    )


@freeze_time(WEEKDAY_MORNING)
def test_callers_are_told_of_the_resolution_each_once_on_their_channel(client, world, sent):
    world.tenants["TIL-12"].preferred_channel = Channel.EMAIL
    db.session.commit()
    door = _hall_door(client, world)  # TIL-11's: SMS to her mobile
    for tenant in ("TIL-12", "PARC-11", "PARC-11", "TIL-11"):
        assert _attach(client, world, door["reference"], tenant).status_code == 201
    _resolve(client, world, door)

    messages = _resolved_messages(door["id"])
    by_recipient = {m.recipient: m for m in messages}
    assert len(messages) == len(by_recipient) == 3
    own = by_recipient[world.tenants["TIL-11"].phones[0].number]
    assert own.channel == MessageChannel.SMS
    # Jean Dupont prefers e-mail: told by e-mail, greeted by his own name.
    dupont = by_recipient[world.tenants["TIL-12"].email]
    assert dupont.channel == MessageChannel.EMAIL
    assert "Jean Dupont" in dupont.body_text
    assert door["reference"] in dupont.body_text
    karim = by_recipient[world.tenants["PARC-11"].phones[0].number]
    assert karim.channel == MessageChannel.SMS
    # Each message is on the timeline; the callers' for staff only.
    events = db.session.execute(
        sa.select(ClaimEvent).where(
            ClaimEvent.claim_id == door["id"], ClaimEvent.kind == EventKind.MESSAGE
        )
    ).scalars()
    visibility = {e.changes["outbox_id"]: e.visibility for e in events}
    assert visibility[own.id] == Visibility.TENANT
    assert visibility[dupont.id] == visibility[karim.id] == Visibility.INTERNAL
    assert {s.to for s in sent.sms} >= {own.recipient, karim.recipient}

    # A second resolution, after a reopening, tells them again.
    client.post(
        f"/api/v1/claims/{door['id']}/transitions",
        json={"action": "reopen"},
        headers=world.headers("metz_tech"),
    )
    with freeze_time(datetime(2026, 3, 10, 10, 0, tzinfo=UTC)):
        _resolve(client, world, door)
    assert len(_resolved_messages(door["id"])) == 6


@freeze_time(WEEKDAY_MORNING)
@pytest.mark.parametrize("change", ["sms_opt_out", "letter"])
def test_a_caller_who_opted_out_is_not_told(client, world, change):
    caller = world.tenants["PARC-11"]
    if change == "sms_opt_out":
        caller.sms_opt_out = True
        caller.email = None
    else:
        caller.preferred_channel = Channel.LETTER
    db.session.commit()
    door = _hall_door(client, world)
    assert _attach(client, world, door["reference"], "PARC-11").status_code == 201
    _resolve(client, world, door)
    recipients = [m.recipient for m in _resolved_messages(door["id"])]
    assert recipients == [world.tenants["TIL-11"].phones[0].number]


@freeze_time(WEEKDAY_MORNING)
def test_a_building_claim_without_tenant_tells_its_callers(client, world):
    lighting = _create(
        client,
        world,
        category="MEN-PORTE-HALL",
        description="Porte du hall bloquée ouverte.",
        dwelling_id=None,
        building_id=world.buildings["TIL"].id,
    )
    assert _attach(client, world, lighting["reference"], "TIL-11").status_code == 201
    _resolve(client, world, lighting)
    assert [m.recipient for m in _resolved_messages(lighting["id"])] == [
        world.tenants["TIL-11"].phones[0].number
    ]


@freeze_time(WEEKDAY_MORNING)
def test_a_tenants_claims_include_those_they_called_about(client, world):
    door = _hall_door(client, world)  # TIL-11's
    leak = _create(client, world, dwelling_id=world.dwellings["TIL-12"].id)  # TIL-12's own
    _hall_door(client, world, building="PARC", tenant="PARC-11")  # nothing to do with them
    assert _attach(client, world, door["reference"], "TIL-12").status_code == 201
    assert _attach(client, world, door["reference"], "TIL-12").status_code == 201
    # Calling about one's own claim again does not make it someone else's.
    assert _attach(client, world, leak["reference"], "TIL-12").status_code == 201

    dupont = world.tenants["TIL-12"].id
    response = client.get(f"/api/v1/tenants/{dupont}/claims", headers=world.headers("agent"))
    assert response.status_code == 200, response.json
    assert [(c["relation"], c["claim"]["reference"]) for c in response.json] == [
        ("tenant", leak["reference"]),
        ("caller", door["reference"]),
    ]
    assert '"total": 2' in response.headers["X-Pagination"]

    # Scoped: Woippy's unit sees none of these Metz claims; an unknown tenant is not found.
    woippy = client.get(f"/api/v1/tenants/{dupont}/claims", headers=world.headers("woippy_tech"))
    assert woippy.status_code == 200
    assert woippy.json == []
    missing = client.get("/api/v1/tenants/999999/claims", headers=world.headers("agent"))
    assert missing.status_code == 404
