"""The contracts' administration in a real browser (Debian's Chromium): an administrator adds
a contract from the keyboard, and the next claim registered through the API goes to its
contractor; no accessibility violation on the pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from grc.claims.models import Category, Claim
from grc.extensions import db
from tests.browser import (
    axe_violations,
    needs_chromium,
    new_page,
    save_screenshots,
    served_world,
    sign_in,
)
from tests.factories import claim_payload

pytestmark = needs_chromium


@pytest.fixture
def served(app: Flask, app_ctx: Flask, tmp_path) -> Iterator[tuple[Flask, str, object]]:
    with served_world(app, tmp_path, passwords=("admin",)) as (base, application, world):
        yield application, base, world


def test_an_administrator_adds_a_contract_that_routes_the_next_claim(served, chromium_browser):
    application, base, world = served
    api = application.test_client()
    parc = world.dwellings["PARC-11"].id
    before = api.post(
        "/api/v1/claims",
        json=claim_payload(world, dwelling_id=parc),
        headers=world.headers("agent"),
    )
    assert before.json["route"]["kind"] == "unit"

    page = new_page(chromium_browser)
    sign_in(page, base, world.users["admin"].email)
    page.get_by_role("link", name="Contrats").first.click()
    page.wait_for_url(f"{base}/admin/contracts")
    assert "MS-2026" in page.content()
    save_screenshots(page, "contracts")
    assert axe_violations(page) == []

    page.get_by_role("link", name="Ajouter un contrat").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/admin/contracts/new")
    # Focus starts on the contractor; each field follows with Tab.
    focused = page.evaluate("document.activeElement.id")
    assert focused == "contractor_id"
    page.get_by_label("Prestataire").select_option(label="Ascenseurs de l'Est")
    page.keyboard.press("Tab")
    page.keyboard.type("PLB-2026-PARC")
    page.get_by_label("Type de contrat").select_option("multiservice")
    page.get_by_label("Valable du").fill("2026-01-01")
    # The long lists narrow as one types; Tab goes to the first box left, Space ticks it.
    page.get_by_label("Chercher une résidence").focus()
    page.keyboard.type("parc")
    assert page.get_by_label("Les Tilleuls").is_hidden()
    page.keyboard.press("Enter")  # narrows only: the form is not sent
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    assert page.get_by_label("Le Parc").is_checked()
    page.get_by_label("Chercher une catégorie").focus()
    page.keyboard.type("plb-fuite")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    assert page.get_by_label("Fuite d'eau active").is_checked()
    page.get_by_label("Normale : heures pour la prise en charge").fill("3")
    save_screenshots(page, "contract-form")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Enregistrer le contrat").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/admin/contracts")
    assert "Contrat PLB-2026-PARC enregistré." in page.content()

    after = api.post(
        "/api/v1/claims",
        json=claim_payload(world, dwelling_id=world.dwellings["PARC-12"].id),
        headers=world.headers("agent"),
    )
    assert after.json["route"]["kind"] == "contractor"
    db.session.expire_all()
    claim = db.session.get(Claim, after.json["id"])
    assert claim.contractor_id == world.contractors["ELEV"].id
    leak = db.session.execute(sa.select(Category).where(Category.code == "PLB-FUITE")).scalar_one()
    assert claim.category_id == leak.id
