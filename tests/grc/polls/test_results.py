"""Results computed by hand: the satisfaction rate, its margin of error with the finite
population correction, "not enough answers", the change since the previous poll of the
theme; the same through the API."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from grc.cus.cleanliness import poll_cleanliness
from grc.extensions import db
from grc.polls.answers import record_answers
from grc.polls.models import AnswerSource, Theme
from grc.polls.results import latest_theme_result, poll_results
from tests.grc.polls.helpers import launched, recipients

LAST_YEAR = datetime(2025, 3, 11, 9, 0, tzinfo=UTC)
THIS_YEAR = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def _answer(world, poll, values: dict[str, int]) -> None:
    by_tenant = {r.tenant_id: r for r in recipients(poll)}
    [question] = poll.questions
    for dwelling, value in values.items():
        recipient = by_tenant[world.tenants[dwelling].id]
        record_answers(db.session, recipient, {question.id: value}, AnswerSource.EMAIL, THIS_YEAR)
    db.session.commit()


@pytest.fixture
def two_polls(world):
    before = launched(sample=8, themes=(Theme.CLEANLINESS,), at=LAST_YEAR)
    # Everyone answered last year: 1 3 3 2 4 2 3 2 → 4 satisfied of 8.
    _answer(
        world,
        before,
        {"TIL-11": 1, "TIL-12": 3, "PARC-11": 3, "PARC-12": 2,
         "HAUS-11": 4, "HAUS-12": 2, "BELL-11": 3, "BELL-12": 2},
    )  # fmt: skip
    now = launched(sample=8, themes=(Theme.CLEANLINESS,), at=THIS_YEAR)
    # Six of eight answer this year: 1 2 3 2 1 2 → 5 satisfied of 6.
    _answer(
        world,
        now,
        {"TIL-11": 1, "TIL-12": 2, "PARC-11": 3, "PARC-12": 2, "HAUS-11": 1, "BELL-11": 2},
    )
    return before, now


def test_rates_margins_and_change_by_hand(world, two_polls):
    before, now = two_polls
    [result] = poll_results(db.session, now)
    assert result.previous_poll is not None
    assert result.previous_poll.id == before.id
    landlord = result.landlord
    assert (landlord.figures.answers, landlord.figures.satisfied) == (6, 5)
    assert landlord.figures.population == 8
    assert landlord.figures.rate == pytest.approx(5 / 6)
    p = 5 / 6
    assert landlord.figures.margin == pytest.approx(
        1.96 * math.sqrt(p * (1 - p) / 6) * math.sqrt((8 - 6) / (8 - 1))
    )
    assert landlord.figures.margin == pytest.approx(0.1594, abs=1e-4)
    # 83.3 % against 50 %: +33.3 points.
    assert landlord.change_points == pytest.approx(33.3)
    # Two answers per agency at most: not enough for a rate.
    agencies = {g.name: g for g in result.of("agency")}
    assert set(agencies) == {"Metz", "Woippy", "Nancy"}
    assert not any(g.figures.enough for g in agencies.values())
    assert all(g.change_points is None for g in agencies.values())
    assert len(result.of("building")) == 4
    # The latest poll of the theme is the one others read.
    latest = latest_theme_result(db.session, Theme.CLEANLINESS)
    assert latest is not None
    assert latest.question.poll_id == now.id


def test_the_api_gives_the_same_figures(client, world, two_polls):
    _, now = two_polls
    listing = client.get("/api/v1/polls", headers=world.headers("manager"))
    assert listing.status_code == 200
    assert [p["id"] for p in listing.json] == [now.id, two_polls[0].id]
    assert listing.json[0]["themes"] == ["cleanliness"]
    assert listing.json[0]["drawn"] == 8
    response = client.get(f"/api/v1/polls/{now.id}/results", headers=world.headers("manager"))
    assert response.status_code == 200
    [question] = response.json["questions"]
    landlord = question["groups"][0]
    assert landlord["level"] == "landlord"
    assert landlord["answers"] == 6
    assert landlord["satisfaction_rate"] == pytest.approx(0.8333, abs=1e-4)
    assert landlord["margin_of_error"] == pytest.approx(0.1594, abs=1e-4)
    assert landlord["change_points"] == pytest.approx(33.3)
    nancy = next(g for g in question["groups"] if g["name"] == "Nancy")
    assert (nancy["enough_answers"], nancy["satisfaction_rate"]) == (False, None)
    assert client.get("/api/v1/polls", headers=world.headers("agent")).status_code == 403
    assert (
        client.get("/api/v1/polls/999/results", headers=world.headers("admin")).status_code == 404
    )
    assert client.get("/api/v1/polls").status_code == 401


def test_the_cus_cleanliness_figure_is_the_years_poll(world, two_polls):
    """The CUS indicator of a year reads that year's cleanliness question, for the landlord;
    an agency with too few answers, and a year no poll measured, have no figure."""
    _, now = two_polls
    this_year = poll_cleanliness(db.session, 2026, None)
    assert this_year is not None
    assert (this_year.answers, this_year.poll_title) == (6, now.title)
    assert this_year.rate == pytest.approx(5 / 6)
    assert this_year.margin == pytest.approx(0.1594, abs=1e-4)
    # Closed three weeks after its launch, as the landlord's calendar says.
    assert this_year.poll_date == now.closes_at.date()
    last_year = poll_cleanliness(db.session, 2025, None)
    assert last_year is not None
    assert (last_year.answers, last_year.rate) == (8, 0.5)
    # Two answers at most per agency: no rate to give.
    assert all(
        poll_cleanliness(db.session, 2026, agency.id) is None for agency in world.agencies.values()
    )
    assert poll_cleanliness(db.session, 2024, None) is None
