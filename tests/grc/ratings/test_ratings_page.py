"""The ratings page: managers and administrators only; each contractor's figures for the
period, "not enough answers" instead of a grade, the trend over four quarters."""

from __future__ import annotations

import pytest

from tests.grc.ratings.helpers import a_year_of_ratings
from tests.pages import sign_in_as


@pytest.mark.parametrize(
    ("role", "status"), [("agent", 403), ("metz_tech", 403), ("manager", 200), ("admin", 200)]
)
def test_the_page_by_role(web_client, world, role, status):
    sign_in_as(web_client, world.users[role])
    response = web_client.get("/ratings?period=2026-Q3", headers={"Accept": "text/html"})
    assert response.status_code == status
    home = web_client.get("/", follow_redirects=True).get_data(as_text=True)
    assert ('href="/ratings"' in home) == (status == 200)


def test_signed_out_goes_to_sign_in(web_client, world):
    response = web_client.get("/ratings")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_the_period_its_contractors_and_their_trend(web_client, world):
    a_year_of_ratings(world)
    sign_in_as(web_client, world.users["manager"])
    html = web_client.get("/ratings?period=2026-Q3&sort=score").get_data(as_text=True)
    assert "Prestataires en 2026-Q3" in html
    assert "86,3" in html
    assert "<strong>A</strong>" in html
    assert "pas assez de réponses" in html
    assert html.index("Multiservices") < html.index("Ascenseurs")
    for quarter in ("2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"):
        assert f">{quarter}</th>" in html
    assert "68,0 (C)" in html
    assert "81,5 (B)" in html

    html = web_client.get("/ratings?period=2026-Q3&sort=name").get_data(as_text=True)
    assert html.index("Ascenseurs") < html.index("Multiservices")

    html = web_client.get("/ratings?period=2024-Q1").get_data(as_text=True)
    assert "Aucune évaluation pour cette période" in html


def test_a_bad_period_is_named_on_its_field(web_client, world):
    sign_in_as(web_client, world.users["manager"])
    response = web_client.get("/ratings?period=2026-Q9")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html
    assert "Ce n&#39;est pas une période" in html or "Ce n'est pas une période" in html
