"""The development outbox page speaks French by default, English by its ``?lang=`` link or
the browser's preference; the words its script writes come in the page's language."""

from __future__ import annotations

import json
import re

import pytest


def _page(client, path: str = "/admin/dev-outbox", **headers: str) -> tuple[str, str, dict]:
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    language = re.search(r'<html lang="(\w+)">', html)
    script_words = re.search(r"var words = (\{.*?\});", html)
    assert language
    assert script_words
    return html, language.group(1), json.loads(script_words.group(1))


def test_the_page_speaks_french_by_default(client):
    html, language, words = _page(client)
    assert language == "fr"
    assert "<h1>Boîte d'envoi de développement</h1>" in html
    assert "Sans identifiants SendGrid ni Twilio, les e-mails et SMS sont gardés ici" in html
    assert '<label for="token">Jeton d\'API</label>' in html
    assert ">Afficher</button>" in html
    assert ">Envoyé le</th>" in html
    assert ">Canal</th>" in html
    assert ">Destinataire</th>" in html
    assert '<a hreflang="en" href="?lang=en">English</a>' in html
    assert '.toLocaleString("fr-FR", ' in html
    assert words == {
        "email": "E-mail",
        "count": "message(s), du plus récent au plus ancien",
        "refused": "Jeton refusé : il faut celui d'un responsable ou d'un administrateur.",
        "failed": "La liste n'a pas pu être lue",
    }


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/admin/dev-outbox?lang=en", {}), ("/admin/dev-outbox", {"Accept-Language": "en-GB"})],
    ids=["link", "browser"],
)
def test_the_page_speaks_english_by_its_link_or_the_browser(client, path, headers):
    html, language, words = _page(client, path, **headers)
    assert language == "en"
    assert "<h1>Development outbox</h1>" in html
    assert '<label for="token">API token</label>' in html
    assert ">Show</button>" in html
    assert ">Sent at</th>" in html
    assert '<a hreflang="fr" href="?lang=fr">Français</a>' in html
    assert '.toLocaleString("en-GB", ' in html
    assert words["refused"] == "Token refused: a manager's or administrator's is needed."
    assert words["count"] == "message(s), newest first"
    assert "Jeton" not in html


def test_the_link_beats_the_browser(client):
    _, language, words = _page(client, "/admin/dev-outbox?lang=fr", **{"Accept-Language": "en"})
    assert language == "fr"
    assert words["failed"] == "La liste n'a pas pu être lue"
