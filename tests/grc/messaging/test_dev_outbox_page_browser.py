"""The development outbox page in a real browser (Debian's Chromium driven by Playwright):
an administrator sees the acknowledgement of a claim just created, with no provider set up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from grc.extensions import db
from tests.browser import needs_chromium, serving
from tests.factories import build_world, claim_payload
from tests.grc.messaging.provider_apps import configured_app

pytestmark = needs_chromium


@pytest.fixture
def served(app: Flask, app_ctx: Flask, tmp_path) -> Iterator[tuple[str, Flask, object]]:
    """No credentials: messages go to the development outbox under the instance folder."""
    with configured_app(app, instance_path=str(tmp_path)) as application:
        application.extensions.pop("grc_senders", None)
        application.extensions.pop("grc_senders_plugged", None)
        world = build_world(db.session)
        db.session.commit()
        with serving(application) as base:
            yield base, application, world


def test_admin_sees_the_acknowledgement_in_the_dev_outbox_page(served, chromium_browser):
    base, application, world = served
    created = application.test_client().post(
        "/api/v1/claims",
        json=claim_payload(world, category="PLB-FUITE"),
        headers=world.headers("agent"),
    )
    assert created.status_code == 201
    reference = created.json["reference"]

    page = chromium_browser.new_page(locale="fr-FR", timezone_id="Europe/Paris")
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.goto(f"{base}/admin/dev-outbox")
    assert page.get_by_role("heading", name="Boîte d'envoi de développement").is_visible()
    page.get_by_label("Jeton d'API").fill(world.tokens["agent"])  # an agent may not read it
    page.get_by_role("button", name="Afficher").click()
    page.get_by_role("alert").filter(has_text="Jeton refusé").wait_for()

    page.get_by_label("Jeton d'API").fill(world.tokens["admin"])
    page.get_by_role("button", name="Afficher").click()
    page.get_by_role("table").wait_for()
    sms_row = page.get_by_role("row").filter(has_text=reference).filter(has_text="SMS")
    assert sms_row.count() == 1
    assert "+33612345678" in sms_row.inner_text()
    # The agent's 403 is the only error: no script was blocked by the content security policy.
    assert [e for e in errors if "403" not in e] == []

    english = chromium_browser.new_page(locale="en-GB")
    english.goto(f"{base}/admin/dev-outbox")
    assert english.get_by_role("heading", name="Development outbox").is_visible()
