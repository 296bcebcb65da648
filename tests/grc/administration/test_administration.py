"""The administration screens: who may open them, each section's create, edit and retire,
refusals naming the field (422, nothing written), and that what is changed on a screen is
what the next claim follows."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from grc.accounts.models import Invitation
from grc.auth import user_for_token
from grc.claims.models import Category, Clock, Priority, RoutingRule, SlaPolicy, TreatmentUnit
from grc.db import utcnow
from grc.extensions import db
from grc.housing.models import Agency
from grc.messaging.models import OutboxMessage, Purpose
from grc.people.models import Role, User
from tests.factories import claim_payload
from tests.pages import csrf_token, sign_in_as

PAGES = [
    "/admin",
    "/admin/users",
    "/admin/users/new",
    "/admin/units",
    "/admin/units/new",
    "/admin/agencies",
    "/admin/agencies/new",
    "/admin/categories",
    "/admin/categories/new",
    "/admin/categories/PLB-FUITE",
    "/admin/sla-policies/new",
    "/admin/routing-rules",
]


@pytest.fixture
def admin(web_client, world):
    sign_in_as(web_client, world.users["admin"])
    return web_client


def _post(client, url, data, page=None):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, page or url)})


def _field_error(response, field):
    """The refusal shown under ``field`` (the field macro's ``<id>-error``)."""
    found = re.search(rf'id="{field}-error">([^<]*)<', response.get_data(as_text=True))
    return found.group(1) if found else None


@pytest.mark.parametrize("url", PAGES)
def test_every_page_opens_for_the_administrator(admin, url):
    response = admin.get(url)
    assert response.status_code == 200, url
    assert "<h1>" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["agent", "metz_tech", "manager"])
@pytest.mark.parametrize("url", ["/admin", "/admin/users", "/admin/routing-rules"])
def test_other_roles_are_refused(web_client, world, role, url):
    sign_in_as(web_client, world.users[role])
    assert web_client.get(url).status_code == 403


def test_the_home_page_and_navigation(admin, world):
    html = admin.get("/admin").get_data(as_text=True)
    for url in ("/admin/users", "/admin/units", "/admin/agencies", "/admin/categories"):
        assert f'href="{url}"' in html
    assert 'href="/admin/routing-rules"' in html
    assert ">Administration</a>" in html  # the header's entry
    assert admin.get("/").headers["Location"].endswith("/admin")


def test_a_post_without_the_csrf_token_is_refused(admin):
    response = admin.post("/admin/units/new", data={"code": "X", "name": "X", "kind": "x"})
    assert response.status_code == 400
    assert (
        db.session.execute(sa.select(TreatmentUnit).where(TreatmentUnit.code == "X")).first()
        is None
    )


def test_an_unknown_row_is_a_404(admin):
    assert admin.get("/admin/users/999999").status_code == 404
    assert admin.get("/admin/categories/NOPE").status_code == 404
    assert (
        _post(admin, "/admin/routing-rules/999999/delete", {}, "/admin/routing-rules").status_code
        == 404
    )


# --- users ---------------------------------------------------------------------------------


def test_the_administrator_creates_a_unit_user_and_invites_them(admin, world):
    unit = world.units["METZ-technique"]
    created = _post(
        admin,
        "/admin/users/new",
        {
            "email": "Claire.Petit@bailleur.test",
            "name": "Claire Petit",
            "role": "unit",
            "unit_id": unit.id,
        },
    )
    assert created.status_code == 302
    user = db.session.execute(
        sa.select(User).where(User.email == "claire.petit@bailleur.test")
    ).scalar_one()
    assert (user.role, user.unit_id, user.active, user.password_hash) == (
        Role.UNIT,
        unit.id,
        True,
        None,
    )

    page = created.headers["Location"]
    invited = _post(admin, f"/admin/users/{user.id}/invitation", {}, page)
    assert invited.status_code == 302
    assert "Invitation envoyée" in admin.get(page).get_data(as_text=True)
    mail = db.session.execute(
        sa.select(OutboxMessage).where(OutboxMessage.purpose == Purpose.INVITATION)
    ).scalar_one()
    assert mail.recipient == user.email
    link = re.search(r"https?://\S+/invitation/([\w-]+)", mail.body_text)
    assert link, mail.body_text  # the secret took the placeholder's place
    assert admin.get(f"/invitation/{link.group(1)}").status_code == 200
    assert db.session.execute(sa.select(Invitation.user_id)).scalar_one() == user.id


def test_a_unit_user_needs_their_unit(admin):
    refused = _post(
        admin, "/admin/users/new", {"email": "a@b.test", "name": "A", "role": "unit", "unit_id": ""}
    )
    assert refused.status_code == 422
    assert (
        _field_error(refused, "unit_id") == "Choisissez l’unité de traitement de cet utilisateur."
    )
    assert db.session.execute(sa.select(User).where(User.email == "a@b.test")).first() is None


def test_an_address_in_use_and_a_malformed_one_are_refused(admin, world):
    taken = _post(
        admin,
        "/admin/users/new",
        {"email": world.users["agent"].email.upper(), "name": "B", "role": "agent"},
    )
    assert taken.status_code == 422
    assert _field_error(taken, "email")
    malformed = _post(
        admin, "/admin/users/new", {"email": "not an address", "name": "B", "role": "agent"}
    )
    assert malformed.status_code == 422
    assert _field_error(malformed, "email")


def test_a_role_change_moves_the_user_and_ends_their_sessions(admin, world):
    user = world.users["metz_tech"]
    key = user.session_key
    changed = _post(
        admin, f"/admin/users/{user.id}", {"name": "Marc Weber", "role": "agent", "unit_id": ""}
    )
    assert changed.status_code == 302
    db.session.refresh(user)
    assert (user.name, user.role, user.unit_id) == ("Marc Weber", Role.AGENT, None)
    assert user.session_key != key


def test_a_deactivated_user_is_signed_out_and_their_tokens_stop(app, admin, world):
    user = world.users["agent"]
    their_browser = app.test_client()
    from tests.pages import PageClient

    their_browser = PageClient(app, app.response_class, use_cookies=True)
    sign_in_as(their_browser, user)
    assert their_browser.get("/account/password").status_code == 200
    token = world.tokens["agent"]

    page = f"/admin/users/{user.id}"
    assert _post(admin, f"{page}/deactivate", {}, page).status_code == 302
    db.session.refresh(user)
    assert user.active is False
    assert their_browser.get("/account/password").status_code == 302  # to the sign-in page
    assert user_for_token(token, utcnow()) is None
    assert "Désactivé" in admin.get("/admin/users").get_data(as_text=True)

    assert _post(admin, f"{page}/reactivate", {}, page).status_code == 302
    db.session.refresh(user)
    assert user.active is True


def test_the_administrator_cannot_deactivate_themselves(admin, world):
    me = world.users["admin"]
    page = f"/admin/users/{me.id}"
    refused = _post(admin, f"{page}/deactivate", {}, page)
    assert refused.status_code == 409
    db.session.refresh(me)
    assert me.active


# --- units and agencies --------------------------------------------------------------------


def test_a_unit_is_created_and_edited(admin, world):
    metz = world.agencies["METZ"]
    refused = _post(
        admin,
        "/admin/units/new",
        {"code": "METZ-X", "name": "Doublon", "kind": "technique", "agency_id": metz.id},
    )
    assert refused.status_code == 422
    assert _field_error(refused, "kind")

    created = _post(
        admin,
        "/admin/units/new",
        {
            "code": "METZ-jardins",
            "name": "Espaces verts Metz",
            "kind": "jardins",
            "agency_id": metz.id,
            "email": "Jardins@Bailleur.test",
        },
    )
    assert created.status_code == 302
    unit = db.session.execute(
        sa.select(TreatmentUnit).where(TreatmentUnit.code == "METZ-jardins")
    ).scalar_one()
    assert (unit.agency_id, unit.email) == (metz.id, "jardins@bailleur.test")

    taken = _post(
        admin,
        f"/admin/units/{unit.id}",
        {"code": "metz-TECHNIQUE", "name": "X", "kind": "jardins", "agency_id": metz.id},
    )
    assert taken.status_code == 422
    assert _field_error(taken, "code")
    renamed = _post(
        admin,
        f"/admin/units/{unit.id}",
        {"code": "METZ-JARDINS", "name": "Jardins de Metz", "kind": "jardins", "agency_id": ""},
    )
    assert renamed.status_code == 302
    db.session.refresh(unit)
    assert (unit.name, unit.agency_id) == ("Jardins de Metz", None)


def test_an_agency_on_call_number_is_normalised_and_checked(admin, world):
    metz = world.agencies["METZ"]
    page = f"/admin/agencies/{metz.id}"
    landline = _post(
        admin, page, {"name": "Metz", "on_call_name": "Paul", "on_call_phone": "03 87 11 22 33"}
    )
    assert landline.status_code == 422
    assert "mobile" in _field_error(landline, "on_call_phone")
    saved = _post(
        admin,
        page,
        {"name": "Metz centre", "on_call_name": "Paul", "on_call_phone": "06 12 34 56 78"},
    )
    assert saved.status_code == 302
    db.session.refresh(metz)
    assert (metz.name, metz.on_call_phone, metz.code) == ("Metz centre", "+33612345678", "METZ")
    assert "+33612345678" in admin.get("/admin/agencies").get_data(as_text=True)


def test_an_agency_is_created_in_a_territory(admin, world):
    territory = world.territories["MOS"]
    refused = _post(
        admin,
        "/admin/agencies/new",
        {"code": "METZ", "name": "Metz bis", "territory_id": territory.id},
    )
    assert refused.status_code == 422
    assert _field_error(refused, "code")
    created = _post(
        admin,
        "/admin/agencies/new",
        {
            "code": "thionville",
            "name": "Thionville",
            "territory_id": territory.id,
            "on_call_phone": "+33 7 01 02 03 04",
        },
    )
    assert created.status_code == 302
    agency = db.session.execute(sa.select(Agency).where(Agency.code == "THIONVILLE")).scalar_one()
    assert (agency.territory_id, agency.on_call_phone) == (territory.id, "+33701020304")


# --- categories and SLA policies -----------------------------------------------------------


def test_a_category_is_created_in_a_domain_edited_and_retired(admin, world):
    not_a_domain = _post(
        admin,
        "/admin/categories/new",
        {
            "code": "PLB-X",
            "parent": "PLB-FUITE",
            "label_fr": "X",
            "label_en": "X",
            "default_priority": "normal",
            "sla_policy": "",
        },
    )
    assert not_a_domain.status_code == 422
    assert _field_error(not_a_domain, "parent")

    created = _post(
        admin,
        "/admin/categories/new",
        {
            "code": "plb-essai",
            "parent": "PLB",
            "label_fr": "Robinet qui goutte",
            "label_en": "Dripping tap",
            "default_priority": "low",
            "sla_policy": "",
            "technical": "y",
        },
    )
    assert created.status_code == 302
    category = db.session.execute(
        sa.select(Category).where(Category.code == "PLB-ESSAI")
    ).scalar_one()
    assert (
        category.parent.code,
        category.default_priority,
        category.technical,
        category.active,
    ) == ("PLB", Priority.LOW, True, True)

    policy = db.session.execute(sa.select(SlaPolicy).order_by(SlaPolicy.id)).scalars().first()
    retired = _post(
        admin,
        "/admin/categories/PLB-ESSAI",
        {
            "label_fr": "Robinet qui fuit",
            "label_en": "Leaking tap",
            "default_priority": "normal",
            "sla_policy": policy.code,
        },
    )
    assert retired.status_code == 302
    db.session.refresh(category)
    assert (category.label_fr, category.sla_policy_id, category.active) == (
        "Robinet qui fuit",
        policy.id,
        False,
    )
    assert "Retirée" in admin.get("/admin/categories").get_data(as_text=True)

    inherits = _post(
        admin,
        "/admin/categories/PLB-ESSAI",
        {
            "label_fr": "Robinet",
            "label_en": "Tap",
            "default_priority": "normal",
            "sla_policy": "",
            "active": "y",
        },
    )
    assert inherits.status_code == 302
    db.session.refresh(category)
    assert (category.sla_policy_id, category.active) == (None, True)


def test_a_retired_category_takes_no_new_claim(client, admin, world):
    _post(
        admin,
        "/admin/categories/VOI-BRUIT",
        {"label_fr": "Bruit", "label_en": "Noise", "default_priority": "normal", "sla_policy": ""},
    )
    response = client.post(
        "/api/v1/claims", json=claim_payload(world, "VOI-BRUIT"), headers=world.headers("agent")
    )
    assert response.status_code == 422, response.json


def test_an_sla_policy_is_created_and_its_hours_checked(admin):
    fields = {
        "code": "p-test",
        "label_fr": "Test",
        "label_en": "Test",
        "response_hours": "8",
        "resolution_hours": "4",
        "clock": "business",
    }
    refused = _post(admin, "/admin/sla-policies/new", fields)
    assert refused.status_code == 422
    assert (
        _field_error(refused, "resolution_hours")
        == "Ne peut pas être plus court que le délai de réponse."
    )
    not_a_number = _post(admin, "/admin/sla-policies/new", {**fields, "response_hours": "huit"})
    assert not_a_number.status_code == 422
    assert _field_error(not_a_number, "response_hours")
    assert (
        db.session.execute(sa.select(SlaPolicy).where(SlaPolicy.code == "P-TEST")).first() is None
    )

    assert (
        _post(admin, "/admin/sla-policies/new", {**fields, "resolution_hours": "48"}).status_code
        == 302
    )
    policy = db.session.execute(sa.select(SlaPolicy).where(SlaPolicy.code == "P-TEST")).scalar_one()
    page = f"/admin/sla-policies/{policy.id}"
    assert (
        _post(
            admin,
            page,
            {
                **fields,
                "code": "",
                "response_hours": "2",
                "resolution_hours": "24",
                "clock": "calendar",
            },
        ).status_code
        == 302
    )
    db.session.refresh(policy)
    assert (policy.code, policy.response_hours, policy.resolution_hours, policy.clock) == (
        "P-TEST",
        2,
        24,
        Clock.CALENDAR,
    )


def test_a_policy_changed_on_the_screen_sets_the_next_claims_deadlines(client, admin, world):
    category = world.category("VOI-BRUIT")
    policy = category.sla_policy or category.parent.sla_policy
    page = f"/admin/sla-policies/{policy.id}"
    assert (
        _post(
            admin,
            page,
            {
                "label_fr": policy.label_fr,
                "label_en": policy.label_en,
                "response_hours": "1",
                "resolution_hours": "2",
                "clock": "calendar",
            },
        ).status_code
        == 302
    )
    claim = client.post(
        "/api/v1/claims", json=claim_payload(world, "VOI-BRUIT"), headers=world.headers("agent")
    ).json
    assert claim["sla_clock"] == "calendar", claim


# --- routing rules -------------------------------------------------------------------------


def test_a_rule_created_on_the_screen_routes_the_next_claim(client, admin, world):
    page = admin.get("/admin/routing-rules").get_data(as_text=True)
    assert "la plus précise" in page or "plus spécifique" in page or "l’emporte" in page
    unit = world.units["METZ-proximite"]
    created = _post(
        admin,
        "/admin/routing-rules",
        {
            "category": "VOI-BRUIT",
            "unit_id": unit.id,
            "scope": f"agency:{world.agencies['METZ'].id}",
        },
    )
    assert created.status_code == 302
    rule = db.session.execute(sa.select(RoutingRule)).scalar_one()
    assert (rule.unit_id, rule.agency_id, rule.residence_id) == (
        unit.id,
        world.agencies["METZ"].id,
        None,
    )

    claim = client.post(
        "/api/v1/claims",
        json=claim_payload(world, "VOI-BRUIT", description="Aboiements toute la nuit"),
        headers=world.headers("agent"),
    ).json
    assert claim["route"]["unit"]["code"] == "METZ-proximite"
    assert claim["route"]["reason_code"] == "rule"

    listed = admin.get("/admin/routing-rules").get_data(as_text=True)
    assert "Agence Metz" in listed
    assert (
        _post(
            admin, f"/admin/routing-rules/{rule.id}/delete", {}, "/admin/routing-rules"
        ).status_code
        == 302
    )
    assert db.session.execute(sa.select(RoutingRule)).first() is None
    again = client.post(
        "/api/v1/claims",
        json=claim_payload(world, "VOI-BRUIT", description="Aboiements toute la nuit"),
        headers=world.headers("agent"),
    ).json
    assert again["route"]["unit"]["code"] != "METZ-proximite"


def test_a_rule_with_bad_fields_is_refused(admin, world):
    no_unit = _post(
        admin, "/admin/routing-rules", {"category": "VOI-BRUIT", "unit_id": "", "scope": ""}
    )
    assert no_unit.status_code == 422
    assert _field_error(no_unit, "unit_id")
    unknown = _post(
        admin,
        "/admin/routing-rules",
        {"category": "NOPE", "unit_id": world.units["sinistres"].id, "scope": "residence:999999"},
    )
    assert unknown.status_code == 422
    assert _field_error(unknown, "category")
    assert _field_error(unknown, "scope")
    assert db.session.execute(sa.select(RoutingRule)).first() is None


def test_a_deactivated_user_is_not_invited(admin, world):
    user = world.users["agent2"]
    user.active = False
    db.session.commit()
    page = f"/admin/users/{user.id}"
    assert "Envoyer une invitation" not in admin.get(page).get_data(as_text=True)
    refused = _post(admin, f"{page}/invitation", {}, page)
    assert refused.status_code == 409
    assert "Réactivez cet utilisateur" in refused.get_data(as_text=True)
    assert db.session.execute(sa.select(Invitation)).first() is None


def test_edit_pages_show_the_current_values(admin, world):
    unit = world.units["METZ-technique"]
    html = admin.get(f"/admin/units/{unit.id}").get_data(as_text=True)
    assert f'<option selected value="{unit.agency_id}">' in html
    user = world.users["metz_tech"]
    html = admin.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert f'<option selected value="{unit.id}">' in html
    assert '<option selected value="unit">' in html
    metz = world.agencies["METZ"]
    assert "Metz" in admin.get(f"/admin/agencies/{metz.id}").get_data(as_text=True)
    policy = world.category("PLB-FUITE").sla_policy
    html = admin.get(f"/admin/sla-policies/{policy.id}").get_data(as_text=True)
    assert f'value="{policy.response_hours}"' in html
    html = admin.get("/admin/categories/PLB-FUITE").get_data(as_text=True)
    assert f'<option selected value="{policy.code}">' in html
