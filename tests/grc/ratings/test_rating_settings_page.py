"""The administrator's page of the rating weights: administrators only, CSRF, each refusal
named on its field or group, and stored periods untouched by a change."""

from __future__ import annotations

import pytest

from grc.extensions import db
from grc.ratings.operations import current_settings
from tests.grc.ratings.helpers import a_year_of_ratings
from tests.pages import csrf_token, sign_in_as

URL = "/admin/ratings"
GOOD = {
    "satisfaction": "50",
    "acknowledged_on_time": "10",
    "completed_on_time": "30",
    "not_reopened": "10",
    "min_answers": "3",
    "threshold_a": "80",
    "threshold_b": "65",
    "threshold_c": "50",
    "threshold_d": "35",
}


@pytest.fixture
def admin(web_client, world):
    return sign_in_as(web_client, world.users["admin"])


def _post(client, data):
    return client.post(URL, data={**data, "csrf_token": csrf_token(client, URL)})


@pytest.mark.parametrize(("role", "status"), [("agent", 403), ("manager", 403), ("admin", 200)])
def test_only_administrators(web_client, world, role, status):
    sign_in_as(web_client, world.users[role])
    assert web_client.get(URL).status_code == status


def test_the_administrator_changes_the_weights(admin, world):
    a_year_of_ratings(world)
    html = admin.get(URL).get_data(as_text=True)
    assert 'value="40"' in html  # the defaults before any change
    assert "Pondérations" in html
    assert "/admin/ratings" in admin.get("/admin").get_data(as_text=True)
    response = _post(admin, GOOD)
    assert response.status_code == 302
    db.session.expire_all()
    current = current_settings(db.session)
    assert current.weights.satisfaction == 50
    assert (current.settings.min_answers, current.settings.thresholds.a) == (3, 80)
    # What was computed before keeps its weights.
    from grc.ratings.models import ContractorRating

    weights = {row.weight_satisfaction for row in db.session.query(ContractorRating)}
    assert weights == {40}


def test_a_post_without_the_csrf_token_is_refused(admin):
    assert admin.post(URL, data=GOOD).status_code == 400
    db.session.expire_all()
    assert current_settings(db.session).weights.satisfaction == 40


@pytest.mark.parametrize(
    ("change", "error_id", "message"),
    [
        ({"satisfaction": "40"}, "weights-error", "La somme des pondérations doit faire 100."),
        ({"threshold_b": "90"}, "thresholds-error", "Chaque note doit commencer plus bas"),
        ({"min_answers": "0"}, "min_answers-error", "De 1 à 10 000."),
        ({"not_reopened": "-5"}, "not_reopened-error", "De 0 à 100."),
    ],
)
def test_a_refusal_is_named_on_its_field(admin, change, error_id, message):
    response = _post(admin, {**GOOD, **change})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{error_id}"' in html
    assert message in html
    db.session.expire_all()
    assert current_settings(db.session).weights.satisfaction == 40
