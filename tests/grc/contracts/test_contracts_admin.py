"""The contractors' and contracts' administration pages: administrators only, contracts
saved with their residences, categories and deadlines (and routing the next claim),
refusals on the form with 422 naming the field, contractors retired and never deleted."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from grc.claims.models import Category, Claim
from grc.contracts.kinds import kind_label
from grc.contracts.models import Contract, Contractor
from grc.errors import Conflict
from grc.extensions import db
from tests.factories import claim_payload
from tests.pages import csrf_token, sign_in_as


def _contract_form(world, token: str, **overrides: Any) -> dict[str, Any]:
    category = db.session.execute(
        sa.select(Category).where(Category.code == "PLB-FUITE")
    ).scalar_one()
    form: dict[str, Any] = {
        "csrf_token": token,
        "contractor_id": world.contractors["ELEV"].id,
        "reference": "PLB-2026-PARC",
        "kind": "multiservice",
        "starts_on": "2026-01-01",
        "ends_on": "",
        "residence_ids": [world.residences["PARC"].id],
        "category_ids": [category.id],
    }
    for priority, (ack, done) in {
        "urgent": (1, 4),
        "high": (2, 24),
        "normal": (3, 48),
        "low": (8, 120),
    }.items():
        form[f"{priority}_acknowledge_hours"] = ack
        form[f"{priority}_complete_hours"] = done
    form.update(overrides)
    return form


@pytest.mark.parametrize("role", ["agent", "metz_tech", "manager"])
def test_only_administrators_see_the_pages(web_client, world, role):
    sign_in_as(web_client, world.users[role])
    for path in ("/admin/contracts", "/admin/contractors", "/admin/contracts/new"):
        assert web_client.get(path).status_code == 403
    assert "/admin/contracts" not in web_client.get("/account/password").get_data(as_text=True)


def test_the_list_shows_the_contracts_and_filters_them(web_client, world):
    sign_in_as(web_client, world.users["admin"])
    page = web_client.get("/admin/contracts")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "MS-2026" in html
    assert "ASC-2025" in html
    assert 'href="/admin/contracts"' in html  # the navigation entry "Contrats"
    filtered = web_client.get(f"/admin/contracts?contractor={world.contractors['ELEV'].id}")
    assert "ASC-2025" in filtered.get_data(as_text=True)
    assert "MS-2026" not in filtered.get_data(as_text=True)
    by_residence = web_client.get(f"/admin/contracts?residence={world.residences['HAUS'].id}")
    assert "MS-2026" in by_residence.get_data(as_text=True)
    assert "ASC-2025" not in by_residence.get_data(as_text=True)
    assert web_client.get("/admin/contracts?contractor=nonsense").status_code == 422


def test_a_saved_contract_routes_the_next_claim_to_its_contractor(web_client, world, client):
    # Before: a leak at Le Parc goes to a unit (no contract covers the residence).
    before = client.post(
        "/api/v1/claims",
        json=claim_payload(world, dwelling_id=world.dwellings["PARC-11"].id),
        headers=world.headers("agent"),
    )
    assert before.json["route"]["kind"] == "unit"

    sign_in_as(web_client, world.users["admin"])
    token = csrf_token(web_client, "/admin/contracts/new")
    saved = web_client.post("/admin/contracts/new", data=_contract_form(world, token))
    assert saved.status_code == 302

    contract = db.session.execute(
        sa.select(Contract).where(Contract.reference == "PLB-2026-PARC")
    ).scalar_one()
    assert [r.code for r in contract.residences] == ["PARC"]
    assert contract.deadlines("normal") == (3, 48)
    after = client.post(
        "/api/v1/claims",
        json=claim_payload(world, dwelling_id=world.dwellings["PARC-12"].id),
        headers=world.headers("agent"),
    )
    assert after.json["route"]["kind"] == "contractor"
    claim = db.session.get(Claim, after.json["id"])
    assert claim.contractor_id == world.contractors["ELEV"].id


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"reference": "MS-2026"}, "reference", "Un autre contrat a déjà cette référence."),
        ({"ends_on": "2025-12-31"}, "ends_on", "La fin est le jour du début ou après."),
        ({"residence_ids": []}, "residence_ids", "Choisissez au moins une résidence."),
        ({"category_ids": []}, "category_ids", "Choisissez au moins une catégorie."),
        (
            {"normal_complete_hours": 2},
            "normal_complete_hours",
            "Pas moins que le délai de prise en charge.",
        ),
    ],
    ids=["reference-taken", "dates-reversed", "no-residence", "no-category", "deadlines"],
)
def test_a_refused_contract_is_shown_on_the_form_and_nothing_is_written(
    web_client, world, overrides, field, words
):
    sign_in_as(web_client, world.users["admin"])
    token = csrf_token(web_client, "/admin/contracts/new")
    count = db.session.execute(sa.select(sa.func.count(Contract.id))).scalar_one()
    refused = web_client.post(
        "/admin/contracts/new", data=_contract_form(world, token, **overrides)
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert words in html
    assert f'id="{field}-error"' in html
    db.session.expire_all()
    assert db.session.execute(sa.select(sa.func.count(Contract.id))).scalar_one() == count


def test_a_post_without_the_token_is_refused(web_client, world):
    sign_in_as(web_client, world.users["admin"])
    refused = web_client.post("/admin/contracts/new", data=_contract_form(world, "forged"))
    assert refused.status_code == 400
    assert (
        db.session.execute(
            sa.select(Contract).where(Contract.reference == "PLB-2026-PARC")
        ).scalar_one_or_none()
        is None
    )


def test_a_contract_is_edited(web_client, world):
    sign_in_as(web_client, world.users["admin"])
    contract = world.contracts["ELEV"]
    page = web_client.get(f"/admin/contracts/{contract.id}")
    assert page.status_code == 200
    assert "ASC-2025" in page.get_data(as_text=True)
    token = csrf_token(web_client, f"/admin/contracts/{contract.id}")
    form = _contract_form(
        world,
        token,
        reference="ASC-2025",
        kind="elevator",
        contractor_id=world.contractors["ELEV"].id,
        residence_ids=[world.residences["TIL"].id, world.residences["PARC"].id],
        category_ids=[c.id for c in contract.categories],
        ends_on="2027-06-30",
    )
    assert web_client.post(f"/admin/contracts/{contract.id}", data=form).status_code == 302
    db.session.expire_all()
    edited = db.session.get(Contract, contract.id)
    assert edited.ends_on == date(2027, 6, 30)
    assert sorted(r.code for r in edited.residences) == ["PARC", "TIL"]
    assert web_client.get("/admin/contracts/2147483647").status_code == 404


def test_contractors_are_created_edited_and_retired_never_deleted(web_client, world):
    sign_in_as(web_client, world.users["admin"])
    token = csrf_token(web_client, "/admin/contractors/new")
    created = web_client.post(
        "/admin/contractors/new",
        data={"csrf_token": token, "code": "chauf", "name": "Chauffage Est", "email": "a@b.test"},
    )
    assert created.status_code == 302
    contractor = db.session.execute(
        sa.select(Contractor).where(Contractor.code == "CHAUF")
    ).scalar_one()
    taken = web_client.post(
        f"/admin/contractors/{contractor.id}",
        data={"csrf_token": token, "code": "MULTI", "name": "Chauffage Est", "email": "a@b.test"},
    )
    assert taken.status_code == 422
    assert "Un autre prestataire a déjà ce code." in taken.get_data(as_text=True)

    multi = world.contractors["MULTI"]
    retired = web_client.post(f"/admin/contractors/{multi.id}/retire", data={"csrf_token": token})
    assert retired.status_code == 302
    db.session.expire_all()
    multi = db.session.get(Contractor, multi.id)
    assert multi.retired_on is not None
    assert all(c.ends_on == multi.retired_on for c in multi.contracts)
    listing = web_client.get("/admin/contractors").get_data(as_text=True)
    assert "Retiré le" in listing
    # Retired already: a 409 page, nothing written.
    again = web_client.post(f"/admin/contractors/{multi.id}/retire", data={"csrf_token": token})
    assert again.status_code == 409
    # A retired contractor is no longer offered for a new contract.
    form = _contract_form(world, token, contractor_id=multi.id)
    assert web_client.post("/admin/contracts/new", data=form).status_code == 422


def test_a_contractor_with_a_contract_starting_later_is_not_retired(web_client, world):
    from grc.contracts import operations

    contract = world.contracts["ELEV"]
    contract.starts_on = date(2099, 1, 1)
    db.session.commit()
    sign_in_as(web_client, world.users["admin"])
    token = csrf_token(web_client, "/admin/contractors")
    elev = world.contractors["ELEV"]
    refused = web_client.post(f"/admin/contractors/{elev.id}/retire", data={"csrf_token": token})
    assert refused.status_code == 409
    db.session.expire_all()
    assert db.session.get(Contractor, elev.id).retired_on is None
    with pytest.raises(Conflict, match="ASC-2025"):
        operations.retire_contractor(
            db.session, db.session.get(Contractor, elev.id), date(2026, 1, 5)
        )


def test_any_page_number_answers(web_client, world):
    sign_in_as(web_client, world.users["admin"])
    for page in ("0", "-3", "abc", "99999999999999999999999"):
        assert web_client.get(f"/admin/contracts?page={page}").status_code == 200, page
        assert web_client.get(f"/admin/contractors?page={page}").status_code == 200, page


def test_a_contracts_kind_is_shown_by_its_name_in_the_readers_language(web_client, world):
    sign_in_as(web_client, world.users["admin"])
    french = web_client.get("/admin/contracts").get_data(as_text=True)
    assert "<td>Multiservices</td>" in french
    assert "<td>Ascenseurs</td>" in french
    assert "<td>multiservice</td>" not in french
    form = web_client.get("/admin/contracts/new").get_data(as_text=True)
    assert '<option value="multiservice">Multiservices</option>' in form
    assert '<option value="pest">Dératisation et désinsectisation</option>' in form

    web_client.get("/language/en")
    english = web_client.get("/admin/contracts").get_data(as_text=True)
    assert "<td>Multi-service maintenance</td>" in english
    assert "<td>Lifts</td>" in english
    edit = web_client.get(f"/admin/contracts/{world.contracts['ELEV'].id}").get_data(as_text=True)
    assert '<option selected value="elevator">Lifts</option>' in edit


def test_a_kind_with_no_name_yet_shows_its_code(app_ctx):
    with app_ctx.test_request_context():
        assert kind_label("elevator") == "Ascenseurs"
        assert kind_label("garden") == "garden"
