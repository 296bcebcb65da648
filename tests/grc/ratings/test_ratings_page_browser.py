"""The ratings page in a real browser: a manager reaches it from the menu, chooses a period
and a sort; an administrator sets the weights and sees a refusal on its group; no
accessibility violation at laptop and phone widths."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.browser import (
    PHONE,
    axe_violations,
    needs_chromium,
    new_page,
    save_screenshots,
    served_world,
    sign_in,
)
from tests.grc.ratings.helpers import a_year_of_ratings

pytestmark = needs_chromium


@pytest.fixture
def served(app: Flask, app_ctx: Flask, tmp_path) -> Iterator[tuple[str, object]]:
    with served_world(app, tmp_path, passwords=("manager", "admin")) as (base, _application, world):
        a_year_of_ratings(world)
        yield base, world


def test_a_manager_reads_the_ratings_of_a_quarter(served, chromium_browser):
    base, world = served
    page = new_page(chromium_browser)
    sign_in(page, base, world.users["manager"].email)
    page.get_by_role("link", name="Évaluation des prestataires").first.click()
    page.wait_for_url(f"{base}/ratings")
    page.get_by_label("Période", exact=True).fill("2026-Q3")
    page.get_by_label("Trier par").select_option(label="Note")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url(f"{base}/ratings?period=2026-Q3&sort=grade")
    assert "pas assez de réponses" in page.content()
    save_screenshots(page, "ratings")
    assert axe_violations(page) == []
    page.set_viewport_size(PHONE)
    assert axe_violations(page) == []


def test_an_administrator_sets_the_weights(served, chromium_browser):
    base, world = served
    page = new_page(chromium_browser)
    sign_in(page, base, world.users["admin"].email)
    page.goto(f"{base}/admin")
    page.get_by_role("link", name="Pondérations de l'évaluation des prestataires").click()
    page.wait_for_url(f"{base}/admin/ratings")
    page.get_by_label("Satisfaction des locataires").fill("30")
    page.get_by_role("button", name="Enregistrer").click()
    assert "La somme des pondérations doit faire 100." in page.content()
    save_screenshots(page, "rating-weights")
    assert axe_violations(page) == []
    page.get_by_label("Satisfaction des locataires").fill("40")
    page.get_by_role("button", name="Enregistrer").click()
    assert "Pondérations enregistrées" in page.content()
    assert axe_violations(page) == []
