"""The shared layer of the staff screens: home by role, language switch, error pages,
formats, security headers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask_babel import force_locale

from grc.web import formatting
from tests.pages import sign_in_as


def test_the_home_page_needs_a_signed_in_user(web_client, world):
    response = web_client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")


def test_pages_speak_french_by_default_and_english_by_the_switch(web_client, world):
    sign_in_as(web_client, world.users["manager"])
    french = web_client.get("/account/password").get_data(as_text=True)
    assert '<html lang="fr">' in french
    assert "Changer mon mot de passe" in french

    switched = web_client.get("/language/en?next=/account/password")
    assert switched.headers["Location"] == "/account/password"
    english = web_client.get("/account/password").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "Change my password" in english


def test_the_language_switch_never_sends_to_another_site(web_client, world):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = web_client.get("/language/en", query_string={"next": target})
        assert response.headers["Location"] == "/"


def test_an_unknown_page_is_a_page_for_browsers_and_json_for_the_api(web_client, world):
    page = web_client.get("/nothing-here", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    assert "Cette page n'existe pas" in page.get_data(as_text=True)
    api = web_client.get("/api/v1/nothing-here")
    assert api.status_code == 404
    assert api.is_json


def test_pages_allow_scripts_and_styles_from_this_site_only(web_client, world):
    sign_in_as(web_client, world.users["agent"])
    response = web_client.get("/account/password")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_stylesheet_and_htmx_are_served_from_this_site(web_client, world):
    html = web_client.get("/sign-in").get_data(as_text=True)
    assert 'src="/static/vendor/htmx-2.0.8.min.js"' in html
    for asset in ("/static/vendor/htmx-2.0.8.min.js", "/static/grc.css"):
        with web_client.get(asset) as response:
            assert response.status_code == 200
    addresses = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', html)
    assert addresses
    assert all(address.startswith("/static/") for address in addresses)


def test_moments_read_as_the_landlord_writes_them(app):
    thursday_2pm = datetime(2026, 3, 12, 13, 0, tzinfo=UTC)  # 14 h in Paris
    with app.test_request_context("/"):
        with force_locale("fr"):
            assert formatting.moment(thursday_2pm) == "jeu. 12/03 à 14 h"
            assert formatting.moment(thursday_2pm + timedelta(minutes=30)) == "jeu. 12/03 à 14 h 30"
        with force_locale("en"):
            assert formatting.moment(thursday_2pm) == "Thu 12/03 at 14:00"


def test_deadlines_read_as_time_left_or_lateness(app):
    now = datetime(2026, 3, 12, 13, 0, tzinfo=UTC)
    with app.test_request_context("/"), force_locale("fr"):
        assert formatting.until(now + timedelta(hours=3), now) == "dans 3\u202fh"
        assert formatting.until(now - timedelta(days=2), now) == "en retard de 2\u202fj"


def test_only_the_screens_check_csrf_tokens(app, web_client, world):
    from grc.web.pages import _SCREENS

    assert {"accounts", "web"} <= _SCREENS
    screens = {
        rule.endpoint.split(".")[0]
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods
        # Pages behind a signed link (work orders, survey and poll answers): the token is the
        # only credential, no session rides on them.
        and not rule.rule.startswith(("/api/", "/webhooks/", "/wo/", "/enquete/", "/sondage/"))
        and not rule.rule.startswith("/admin/dev-outbox")
    }
    # Every post reached with the session cookie belongs to a screen, hence is checked.
    assert screens <= _SCREENS
    # A webhook or an API call (no session cookie) is not asked for a token.
    assert web_client.post("/webhooks/twilio/voice").status_code == 403
    assert web_client.post("/api/v1/claims", json={}).status_code == 401


def test_the_stylesheet_has_every_block_closed():
    # An unclosed block silently drops every rule after it (each screen's layout).
    from pathlib import Path

    import grc

    css = (Path(grc.__file__).parent / "static/grc.css").read_text()
    depth = 0
    for character in css:
        depth += {"{": 1, "}": -1}.get(character, 0)
        assert depth >= 0
    assert depth == 0


def _language(response) -> str:
    found = re.search(r'<html lang="(\w+)">', response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)[:200]
    return found.group(1)


def test_with_no_one_signed_in_the_address_then_the_session_then_the_browser_choose(
    web_client, world
):
    english_browser = {"Accept-Language": "en-GB,en;q=0.9"}
    assert _language(web_client.get("/sign-in")) == "fr"  # the default
    assert _language(web_client.get("/sign-in", headers={"Accept-Language": "de"})) == "fr"
    by_browser = web_client.get("/sign-in", headers=english_browser)
    assert _language(by_browser) == "en"
    assert "Sign in" in by_browser.get_data(as_text=True)
    assert _language(web_client.get("/sign-in?lang=en")) == "en"
    assert _language(web_client.get("/sign-in?lang=fr", headers=english_browser)) == "fr"
    assert _language(web_client.get("/sign-in?lang=de", headers=english_browser)) == "en"
    # The header's switch keeps a choice in the session: it beats the browser's preference.
    web_client.get("/language/fr")
    assert _language(web_client.get("/sign-in", headers=english_browser)) == "fr"
    assert _language(web_client.get("/sign-in?lang=en")) == "en"  # the address beats it


def test_a_signed_in_user_reads_the_default_unless_they_or_the_address_choose(web_client, world):
    sign_in_as(web_client, world.users["manager"])
    english_browser = {"Accept-Language": "en"}
    assert _language(web_client.get("/account/password", headers=english_browser)) == "fr"
    assert _language(web_client.get("/account/password?lang=en")) == "en"
    assert _language(web_client.get("/account/password")) == "fr"  # for that page only
    web_client.get("/language/en")
    assert _language(web_client.get("/account/password")) == "en"
    assert _language(web_client.get("/account/password?lang=fr")) == "fr"
