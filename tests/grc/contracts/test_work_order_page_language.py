"""The contractor's pages speak French by default, English by their ``?lang=`` link or the
browser's preference (``grc.web.application.select_locale``), with the same French words as
ever; the claim's timeline stays in French whatever the page spoke."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape

from grc.claims.models import Claim
from grc.contracts import work_orders
from grc.contracts.work_orders import LinkAction
from grc.extensions import db
from tests.grc.inbound.inbound_posts import claim_with_work_order

ENGLISH_BROWSER = {"Accept-Language": "en-GB,en;q=0.9"}


@pytest.fixture
def order(app_ctx, world):
    return claim_with_work_order(app_ctx, world)


def _lang(html: str) -> str:
    found = re.search(r'<html lang="(\w+)">', html)
    assert found
    return found.group(1)


def test_the_page_is_in_french_by_default_with_its_words_as_ever(client, order):
    path = f"/wo/{work_orders.action_token(order, LinkAction.DONE)}"
    response = client.get(path)
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert _lang(html) == "fr"
    assert "<h1>Intervention terminée</h1>" in html
    assert f"<strong>Demande {order.claim.reference}</strong> – Fuite d&#39;eau active" in html
    assert "Prestataire : Multiservices Lorraine" in html
    assert str(escape("Confirmez-vous que l'intervention est terminée ?")) in html
    assert str(escape("L'intervention est terminée")) in html
    assert 'action="?lang=fr"' in html
    assert '<p lang="en"><a hreflang="en" href="?lang=en">English</a></p>' in html
    assert "Set-Cookie" not in response.headers  # no session for a contractor


def test_the_page_is_in_english_by_its_link_or_the_browser(client, order):
    path = f"/wo/{work_orders.action_token(order, LinkAction.DONE)}"
    for response in (client.get(f"{path}?lang=en"), client.get(path, headers=ENGLISH_BROWSER)):
        html = response.get_data(as_text=True)
        assert _lang(html) == "en"
        assert "<h1>Job done</h1>" in html
        assert f"<strong>Claim {order.claim.reference}</strong> – Active water leak" in html
        assert "Contractor: Multiservices Lorraine" in html
        assert "Do you confirm the job is done?" in html
        assert "The job is done" in html
        assert '<a hreflang="fr" href="?lang=fr">Français</a>' in html
        assert "Intervention" not in html
    assert 'action="?lang=en"' in client.get(f"{path}?lang=en").get_data(as_text=True)
    # The link beats the browser: a contractor who chose French keeps it.
    chosen = client.get(f"{path}?lang=fr", headers=ENGLISH_BROWSER).get_data(as_text=True)
    assert _lang(chosen) == "fr"
    assert "<h1>Intervention terminée</h1>" in chosen
    # Then the next request chooses again (nothing is kept between two requests).
    assert _lang(client.get(path).get_data(as_text=True)) == "fr"


def test_an_english_click_writes_the_timeline_in_french(client, order):
    path = f"/wo/{work_orders.action_token(order, LinkAction.TAKE)}"
    answer = client.post(f"{path}?lang=en")
    assert "Thank you, it is recorded." in answer.get_data(as_text=True)
    db.session.expire_all()
    claim = db.session.get(Claim, order.claim_id)
    bodies = [event.body or "" for event in claim.events]
    assert any(
        body == "Multiservices Lorraine : « Prise en charge » confirmé par le lien de "
        "l'ordre de service."
        for body in bodies
    ), bodies
    assert not any("Taking the job" in body for body in bodies)


def test_an_invalid_link_explains_itself_in_either_language(client):
    french = client.get("/wo/not-a-token")
    assert french.status_code == 404
    assert "<h1>Lien invalide</h1>" in french.get_data(as_text=True)
    assert str(escape("Ce lien n'est pas valide ou a expiré.")) in french.get_data(as_text=True)
    english = client.get("/wo/not-a-token", headers={"Accept-Language": "en"})
    assert english.status_code == 404
    assert "<h1>Invalid link</h1>" in english.get_data(as_text=True)
