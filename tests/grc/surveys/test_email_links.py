"""The survey e-mail's signed links: GET shows the page and changes nothing, POST records
once, a bad or expired token gets a 4xx page, the page speaks French or English."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from freezegun import freeze_time

from grc.extensions import db
from grc.messaging.models import Purpose
from grc.people.models import Tenant
from grc.surveys.models import SurveyStatus
from grc.surveys.operations import answer_token, send_due_surveys
from tests.grc.surveys.helpers import TUESDAY, resolved_claim, survey_messages, surveys

SENT = TUESDAY + timedelta(hours=2)


@pytest.fixture
def links(world) -> dict[int, str]:
    """A claim of TIL-11 (opted out of SMS: asked by e-mail) surveyed; its five links."""
    tenant = db.session.get(Tenant, world.tenants["TIL-11"].id)
    tenant.sms_opt_out = True
    db.session.commit()
    resolved_claim(world, TUESDAY)
    with freeze_time(SENT):  # the links are signed when the job runs
        send_due_surveys(db.session, SENT)
        db.session.commit()
    [message] = survey_messages(Purpose.SURVEY)
    found = re.findall(r"(\d)[^:\n]*: (/enquete/\S+)", message.body_text)
    assert [int(score) for score, _ in found] == [1, 2, 3, 4, 5]
    return {int(score): link for score, link in found}


def test_get_shows_the_page_and_changes_nothing(client, links):
    with freeze_time(SENT + timedelta(hours=1)):
        response = client.get(links[4])
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "4/5" in page
    assert "Votre avis" in page
    assert "Multiservices Lorraine" in page
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Content-Security-Policy" in response.headers
    [survey] = surveys()
    assert survey.status == SurveyStatus.SENT
    assert survey.answers == []


def test_post_records_once_with_the_comment(client, links):
    with freeze_time(SENT + timedelta(hours=1)):
        first = client.post(links[4], data={"comment": "Rapide et propre."})
        again = client.post(links[2], data={})
        page = client.get(links[4])
    assert first.status_code == 200
    assert "Merci, votre réponse est enregistrée." in first.get_data(as_text=True)
    assert "première réponse qui compte" in again.get_data(as_text=True)
    assert "déjà enregistrée" in page.get_data(as_text=True)
    [survey] = surveys()
    assert (survey.status, survey.score, survey.comment) == (
        SurveyStatus.ANSWERED,
        4,
        "Rapide et propre.",
    )
    assert [(a.score, a.counted, a.source) for a in survey.answers] == [
        (4, True, "email"),
        (2, False, "email"),
    ]


def test_not_done_by_the_page_reopens_the_claim(client, links):
    from grc.claims.models import ClaimStatus

    with freeze_time(SENT + timedelta(hours=1)):
        response = client.post(links[1], data={"not_done": "1", "comment": "Personne."})
    assert response.status_code == 200
    [survey] = surveys()
    assert (survey.not_done, survey.score) == (True, None)
    assert survey.claim.status == ClaimStatus.IN_PROGRESS


def test_english_switch(client, links):
    with freeze_time(SENT + timedelta(hours=1)):
        page = client.get(links[5] + "?lang=en").get_data(as_text=True)
    assert "Your opinion" in page
    assert "Send my answer" in page


@pytest.mark.parametrize("method", ["get", "post"])
def test_bad_or_expired_links_get_a_4xx_page_and_change_nothing(client, links, method):
    forged = links[4][:-3] + "xyz"
    other_purpose = "/enquete/" + answer_token(99999, 4)
    with freeze_time(SENT + timedelta(hours=1)):
        assert getattr(client, method)(forged).status_code == 404
        assert getattr(client, method)(other_purpose).status_code == 404
    with freeze_time(SENT + timedelta(days=7, minutes=1)):
        send_due_surveys(db.session, SENT + timedelta(days=7, minutes=1))
        db.session.commit()
        response = getattr(client, method)(links[4])
    assert response.status_code == 404
    assert "Lien invalide" in response.get_data(as_text=True)
    [survey] = surveys()
    assert survey.status == SurveyStatus.EXPIRED
    assert survey.answers == []
