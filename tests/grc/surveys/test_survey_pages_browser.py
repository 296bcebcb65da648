"""The survey's answer page in a real browser, on a phone: the tenant opens a link from the
e-mail, adds a comment and sends; the claim page then shows the survey and its answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask

from grc.db import utcnow
from grc.extensions import db
from grc.surveys.models import Survey, SurveyStatus
from grc.surveys.operations import answer_links
from tests.browser import (
    SCREENSHOTS,
    axe_violations,
    chromium,
    needs_chromium,
    new_page,
    save_screenshots,
    served_world,
    sign_in,
)
from tests.grc.surveys.helpers import resolved_claim, surveys

pytestmark = needs_chromium


@pytest.fixture
def served(app: Flask, app_ctx: Flask, tmp_path) -> Iterator[tuple[str, Flask, object]]:
    with served_world(app, tmp_path, passwords=("metz_tech",)) as opened:
        yield opened


def _sent_survey(world) -> Survey:
    """A claim resolved three hours ago whose survey left by e-mail an hour ago."""
    now = utcnow()
    claim = resolved_claim(world, now - timedelta(hours=3))
    [survey] = surveys(claim)
    survey.status = SurveyStatus.SENT
    survey.sent_at = now - timedelta(hours=1)
    survey.expires_at = now + timedelta(days=6)
    survey.group_id = survey.id
    db.session.commit()
    return survey


def test_tenant_answers_on_a_phone_and_the_claim_page_shows_it(served):
    base, _application, world = served
    survey = _sent_survey(world)
    reference = survey.claim.reference
    link = answer_links(survey.id)[4]
    with chromium() as browser:
        page = new_page(browser)
        page.set_viewport_size({"width": 375, "height": 740})
        page.goto(base + link)
        assert page.locator("html").get_attribute("lang") == "fr"
        assert page.get_by_role("heading", name="Votre avis").is_visible()
        assert page.get_by_text(f"Demande {reference}").is_visible()
        assert axe_violations(page) == []
        save_screenshots(page, "survey-answer")
        # Not wider than the phone: nothing to scroll sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.screenshot(path=str(SCREENSHOTS / "survey-answer-375.png"), full_page=True)

        page.get_by_label("Un commentaire (facultatif)").fill("Très bien, merci.")
        page.get_by_role("button", name="Envoyer ma réponse").click()
        page.get_by_role("status").wait_for()
        assert page.get_by_role("status").inner_text() == "Merci, votre réponse est enregistrée."
        [answered] = surveys()
        assert (answered.status, answered.score) == (SurveyStatus.ANSWERED, 4)

        page.goto(base + link + "?lang=en")
        assert page.get_by_role("heading", name="Your opinion").is_visible()

        staff = new_page(browser)
        sign_in(staff, base, world.users["metz_tech"].email)
        staff.goto(f"{base}/claims/{reference}")
        card = staff.get_by_role("region", name="Enquête de satisfaction")
        assert card.is_visible()
        assert "4/5" in card.inner_text()
        assert "Très bien, merci." in card.inner_text()
        assert axe_violations(staff) == []
        save_screenshots(staff, "claim-survey-card")
