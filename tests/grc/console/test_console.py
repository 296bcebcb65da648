"""The call centre's console through a browser-like client: the search box, the tenant card,
the claim form and the call attached to an open claim."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
import sqlalchemy as sa

from grc.claims import operations
from grc.claims.models import Claim, ClaimCaller, ClaimStatus, IntakeChannel
from grc.db import utcnow
from grc.extensions import db
from grc.messaging.models import OutboxMessage
from grc.telephony import operations as telephony
from grc.telephony.models import Call, CallClaim, CallStatus
from tests.pages import csrf_token, sign_in_as

HTMX = {"HX-Request": "true"}


@pytest.fixture
def agent(web_client, world):
    sign_in_as(web_client, world.users["agent"])
    return web_client


def _claims() -> list[Claim]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(Claim).order_by(Claim.id)).scalars())


def _lift_claim(world, tenant_key: str = "TIL-11") -> Claim:
    claim = operations.create_claim(
        db.session,
        operations.NewClaim(
            category="ASC-PANNE",
            channel=IntakeChannel.PHONE,
            description="L'ascenseur est bloqué au 3e",
            equipment_id=world.equipment["TIL-ELEV"].id,
            tenant_id=world.tenants[tenant_key].id,
        ),
        world.users["agent"],
    )
    db.session.commit()
    return claim


def _form(agent, world, tenant_key="TIL-12", **fields):
    tenant = world.tenants[tenant_key]
    data = {
        "csrf_token": csrf_token(agent, f"/console/tenants/{tenant.id}"),
        "category": "Ascenseur en panne (ASC-PANNE)",
        "location": "equipment",
        "equipment_id": str(world.equipment["TIL-ELEV"].id),
        "channel": "phone",
        "description": "Ascenseur arrêté entre deux étages",
    }
    data.update(fields)
    return tenant, data


# The search box


def test_the_console_is_the_agents_home_with_the_search_box_focused(agent):
    home = agent.get("/")
    assert home.status_code == 302
    assert home.headers["Location"].endswith("/console")
    html = agent.get("/console").get_data(as_text=True)
    assert 'id="q"' in html
    assert "autofocus" in html
    assert 'hx-trigger="input changed delay:150ms' in html
    assert ">Console</a>" in html  # the navigation entry


def test_part_of_a_phone_number_finds_the_tenant_while_typing(agent, world):
    tenant = world.tenants["TIL-11"]  # 06 12 34 56 78
    for typed in ("06 12 34", "56 78", "+33 6 12 3", "0033612"):
        response = agent.get("/console", query_string={"q": typed}, headers=HTMX)
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "<html" not in html  # a part of the page, for htmx
        assert f"/console/tenants/{tenant.id}" in html, typed
        assert "06 12 34 56 78" in html
    other = agent.get("/console", query_string={"q": "56 78"}, headers=HTMX).get_data(as_text=True)
    assert f'/console/tenants/{world.tenants["TIL-12"].id}"' not in other


def test_a_name_or_an_address_lists_tenants_without_javascript(agent, world):
    html = agent.get("/console", query_string={"q": "lefevre"}).get_data(as_text=True)
    assert "<html" in html
    assert "LEFÈVRE Élodie" in html
    html = agent.get("/console", query_string={"q": "rue des tilleuls"}).get_data(as_text=True)
    assert "LEFÈVRE Élodie" in html
    assert "DUPONT Jean" in html
    html = agent.get("/console", query_string={"q": "zzzz"}).get_data(as_text=True)
    assert "Aucun locataire" in html


def test_a_claim_reference_opens_the_card(agent, world):
    tenant = world.tenants["TIL-11"]
    claim = _lift_claim(world)
    for typed in (claim.reference, claim.reference.lower().replace("-", "")):
        response = agent.get("/console", query_string={"q": typed})
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/console/tenants/{tenant.id}")
    # While typing (htmx), the reference is one link among the results, to open with Enter.
    html = agent.get("/console", query_string={"q": claim.reference}, headers=HTMX)
    assert f"/console/tenants/{tenant.id}" in html.get_data(as_text=True)


def test_a_full_number_lists_its_tenant(agent, world):
    tenant = world.tenants["TIL-11"]
    html = agent.get("/console", query_string={"q": "+33 6 12 34 56 78"}).get_data(as_text=True)
    assert f"/console/tenants/{tenant.id}" in html
    assert "téléphone" in html  # how it matched


def test_only_those_who_register_claims_use_the_console(web_client, world):
    assert web_client.get("/console").status_code == 302  # to the sign-in page
    sign_in_as(web_client, world.users["metz_tech"])
    assert web_client.get("/console").status_code == 403
    tenant = world.tenants["TIL-11"]
    assert web_client.get(f"/console/tenants/{tenant.id}").status_code == 403


# The tenant card


def test_the_card_tells_who_where_what_covers_it_and_what_happened(agent, world):
    tenant = world.tenants["TIL-11"]
    world.agencies["METZ"].on_call_phone = "+33387000000"
    world.agencies["METZ"].on_call_name = "Astreinte Metz"
    claim = _lift_claim(world)
    late = operations.create_claim(
        db.session,
        operations.NewClaim(
            category="PLB-ROBINET",
            channel=IntakeChannel.PHONE,
            description="Le robinet goutte",
            dwelling_id=world.dwellings["TIL-11"].id,
        ),
        world.users["agent"],
        now=utcnow() - timedelta(days=30),
    )
    db.session.commit()
    html = agent.get(f"/console/tenants/{tenant.id}").get_data(as_text=True)
    assert "LEFÈVRE Élodie" in html
    assert "06 12 34 56 78" in html
    assert tenant.email in html
    assert "SMS" in html
    assert "Les Tilleuls" in html
    assert "Metz" in html
    assert "03 87 00 00 00" in html
    assert "Astreinte Metz" in html
    assert "Multiservices Lorraine" in html
    assert "MS-2026" in html
    assert "Ascenseurs de l&#39;Est" in html
    assert "Ascenseur en panne" in html
    assert claim.reference in html
    assert late.reference in html
    assert "en retard" in html  # the leak's deadline is past
    # The acknowledgements the tenant was sent.
    assert "Dernier" in html or "derniers" in html.lower()
    sent = db.session.execute(
        sa.select(OutboxMessage).where(OutboxMessage.claim_id == claim.id)
    ).scalars()
    assert any(m.recipient == "+33612345678" for m in sent)
    assert "SMS ·" in html


def test_an_unknown_tenant_is_not_found(agent):
    assert agent.get("/console/tenants/999999").status_code == 404


# The claim form


def test_a_phone_claim_on_the_lift_is_routed_and_its_route_shown(agent, world):
    tenant, data = _form(agent, world)
    response = agent.post(f"/console/tenants/{tenant.id}/claims", data=data)
    assert response.status_code == 302
    [claim] = _claims()
    assert claim.tenant_id == tenant.id
    assert claim.equipment_id == world.equipment["TIL-ELEV"].id
    assert claim.channel == IntakeChannel.PHONE
    assert claim.contract.reference == "ASC-2025"
    assert response.headers["Location"].endswith(f"/console/tenants/{tenant.id}?saved={claim.id}")
    html = agent.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Demande {claim.reference} enregistrée" in html
    assert "Ascenseurs de l&#39;Est" in html
    assert "ASC-2025" in html
    assert claim.route_reason.replace("'", "&#39;") in html
    assert "Réponse au plus tard" in html
    assert "Résolution au plus tard" in html
    assert "heures ouvrées" in html
    assert "57" in html
    kinds = [event.kind for event in claim.events]
    assert "created" in kinds
    assert "routed" in kinds


def test_a_question_resolved_during_the_call(agent, world):
    tenant, data = _form(
        agent,
        world,
        category="Demande d'attestation",
        location="dwelling",
        resolve_now="y",
        resolution="Attestation envoyée par e-mail",
        description="Besoin d'une attestation de loyer",
    )
    response = agent.post(f"/console/tenants/{tenant.id}/claims", data=data)
    assert response.status_code == 302
    [claim] = _claims()
    assert claim.status == ClaimStatus.RESOLVED
    assert claim.first_contact_resolution
    assert claim.resolution == "Attestation envoyée par e-mail"
    html = agent.get(response.headers["Location"]).get_data(as_text=True)
    assert "résolue pendant l’appel" in html or "résolue pendant l'appel" in html


def test_a_leak_is_never_resolved_during_the_call(agent, world):
    tenant, data = _form(
        agent,
        world,
        category="PLB-FUITE",
        location="dwelling",
        resolve_now="y",
        resolution="Fermez le robinet",
    )
    response = agent.post(f"/console/tenants/{tenant.id}/claims", data=data)
    assert response.status_code == 409
    assert "ne peut pas être résolue pendant l’appel" in response.get_data(as_text=True)
    assert _claims() == []
    assert db.session.execute(sa.select(sa.func.count(OutboxMessage.id))).scalar_one() == 0


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"category": "n'importe quoi"}, 'id="category-error"'),
        ({"description": ""}, 'id="description-error"'),
        ({"location": "dwelling"}, 'id="location-error"'),  # a lift is not in the dwelling
        ({"equipment_id": "0"}, 'id="location-error"'),
    ],
)
def test_bad_input_is_named_on_the_form_and_nothing_is_written(agent, world, fields, named):
    tenant, data = _form(agent, world, **fields)
    response = agent.post(f"/console/tenants/{tenant.id}/claims", data=data)
    assert response.status_code == 422
    assert named in response.get_data(as_text=True)
    assert _claims() == []


def test_equipment_of_another_building_is_refused(agent, world):
    tenant, data = _form(agent, world, equipment_id=str(world.equipment["PARC-ELEV"].id))
    response = agent.post(f"/console/tenants/{tenant.id}/claims", data=data)
    assert response.status_code == 422
    assert 'id="equipment_id-error"' in response.get_data(as_text=True)
    assert _claims() == []


def test_a_post_without_the_csrf_token_is_refused(agent, world):
    tenant, data = _form(agent, world)
    del data["csrf_token"]
    assert agent.post(f"/console/tenants/{tenant.id}/claims", data=data).status_code == 400
    assert _claims() == []


# One breakdown, many calls


def test_the_open_claim_on_the_same_lift_is_shown_before_saving(agent, world):
    first = _lift_claim(world)
    tenant = world.tenants["TIL-12"]
    html = agent.get(
        f"/console/tenants/{tenant.id}/similar",
        query_string={
            "category": "Ascenseur en panne (ASC-PANNE)",
            "location": "equipment",
            "equipment_id": world.equipment["TIL-ELEV"].id,
        },
        headers=HTMX,
    ).get_data(as_text=True)
    assert first.reference in html
    assert "Rattacher l’appel à cette demande" in html or "Rattacher l'appel" in html
    assert "Prioritaire" in html or "Haute" in html or "Priorité" in html
    # Another category in the same building: nothing to attach to.
    html = agent.get(
        f"/console/tenants/{tenant.id}/similar",
        query_string={"category": "PRO-PC", "location": "building"},
        headers=HTMX,
    ).get_data(as_text=True)
    assert first.reference not in html


def test_a_second_call_about_the_lift_is_attached_to_the_first_claim(agent, world):
    first = _lift_claim(world)
    tenant, data = _form(agent, world, description="Toujours en panne, 2e appel")
    response = agent.post(f"/console/tenants/{tenant.id}/calls/{first.reference}", data=data)
    assert response.status_code == 302
    assert [c.id for c in _claims()] == [first.id]  # no duplicate
    [call] = db.session.execute(sa.select(ClaimCaller)).scalars()
    assert call.tenant_id == tenant.id
    assert call.note == "Toujours en panne, 2e appel"
    # The agent is shown that claim (its page), with what was done.
    assert response.headers["Location"] == f"/claims/{first.reference}"
    html = agent.get(response.headers["Location"]).get_data(as_text=True)
    assert f"L’appel est rattaché à la demande {first.reference}." in html.replace("'", "’")
    card = agent.get(f"/console/tenants/{tenant.id}").get_data(as_text=True)
    assert "a appelé" in card  # the card lists the claim they called about


def test_a_call_is_not_attached_to_a_closed_claim(agent, world):
    first = _lift_claim(world)
    first.status, first.cancelled_at = ClaimStatus.CANCELLED, utcnow()
    db.session.commit()
    tenant, data = _form(agent, world)
    response = agent.post(f"/console/tenants/{tenant.id}/calls/{first.reference}", data=data)
    assert response.status_code == 409
    assert db.session.execute(sa.select(sa.func.count(ClaimCaller.id))).scalar_one() == 0


def test_a_call_to_an_unknown_claim_is_not_found(agent, world):
    tenant, data = _form(agent, world)
    response = agent.post(f"/console/tenants/{tenant.id}/calls/R-2026-999999", data=data)
    assert response.status_code == 404


# Incoming calls


def _incoming(number: str | None = "+33612345678") -> Call:
    call = telephony.receive_call(
        db.session, "CA" + secrets.token_hex(16), number, "+33387000000", utcnow()
    )
    db.session.commit()
    assert call is not None
    return call


def test_the_calls_in_progress_are_polled_with_the_callers_tenant(agent, world):
    assert 'hx-trigger="load, every 5s"' in agent.get("/console").get_data(as_text=True)
    _incoming()
    html = agent.get("/console/calls", headers=HTMX).get_data(as_text=True)
    assert "06 12 34 56 78" in html
    assert "Prendre l’appel : LEFÈVRE Élodie" in html
    assert "en attente depuis" in html


def test_taking_a_call_opens_the_card_and_links_the_claims_registered(agent, world):
    call = _incoming()
    tenant = world.tenants["TIL-11"]
    token = csrf_token(agent, "/console")
    response = agent.post(
        f"/console/calls/{call.id}/take", data={"csrf_token": token, "tenant_id": tenant.id}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/console/tenants/{tenant.id}")
    db.session.expire_all()
    assert call.status == CallStatus.IN_PROGRESS
    assert call.taken_by_id == world.users["agent"].id
    card = agent.get(response.headers["Location"]).get_data(as_text=True)
    assert "liées à cet appel" in card

    tenant, data = _form(agent, world, tenant_key="TIL-11")
    assert agent.post(f"/console/tenants/{tenant.id}/claims", data=data).status_code == 302
    [claim] = _claims()
    [link] = db.session.execute(sa.select(CallClaim)).scalars()
    assert (link.call_id, link.claim_id) == (call.id, claim.id)


def test_a_call_from_an_unknown_number_opens_the_search_with_it(agent):
    call = _incoming("+33699999999")
    token = csrf_token(agent, "/console")
    response = agent.post(f"/console/calls/{call.id}/take", data={"csrf_token": token})
    assert response.status_code == 302
    assert "q=06+99+99+99+99" in response.headers["Location"]


def test_a_call_another_agent_took_is_refused(agent, world):
    call = _incoming()
    telephony.take_call(db.session, call, world.users["agent2"], utcnow())
    db.session.commit()
    token = csrf_token(agent, "/console")
    response = agent.post(f"/console/calls/{call.id}/take", data={"csrf_token": token})
    assert response.status_code == 409
    assert "Un autre chargé" in response.get_data(as_text=True)
    # Without the token, nothing is taken.
    other = _incoming("+33701020304")
    assert agent.post(f"/console/calls/{other.id}/take").status_code == 400
    db.session.expire_all()
    assert other.status == CallStatus.WAITING


def test_no_claim_is_linked_without_a_call_taken(agent, world):
    _incoming()  # waiting, nobody took it
    tenant, data = _form(agent, world)
    assert agent.post(f"/console/tenants/{tenant.id}/claims", data=data).status_code == 302
    assert db.session.execute(sa.select(sa.func.count(CallClaim.call_id))).scalar_one() == 0


def test_a_former_tenant_has_a_card_but_no_claim_form(agent, world):
    from grc.people.models import Tenant

    former = Tenant(first_name="Paul", last_name="Ancien")
    former.refresh_search_name()
    db.session.add(former)
    db.session.commit()
    html = agent.get(f"/console/tenants/{former.id}").get_data(as_text=True)
    assert "n’a pas de bail en cours" in html
    assert 'id="category"' not in html
    _, data = _form(agent, world)
    response = agent.post(f"/console/tenants/{former.id}/claims", data=data)
    assert response.status_code == 422
    assert _claims() == []


def test_the_live_part_waits_for_a_category_it_knows(agent, world):
    tenant = world.tenants["TIL-11"]
    html = agent.get(
        f"/console/tenants/{tenant.id}/similar", query_string={"category": "zz"}, headers=HTMX
    ).get_data(as_text=True)
    assert "dès que la catégorie est choisie" in html
    html = agent.get(
        f"/console/tenants/{tenant.id}/similar",
        query_string={"category": "fuite d'eau", "location": "dwelling"},
        headers=HTMX,
    ).get_data(as_text=True)
    assert "Priorité" in html
    assert "Urgente" in html or "Urgent" in html
