"""The CUS indicators on the fixed data set (tests.grc.cus.helpers), hand-computed, on
both databases."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from grc.cus.breakdowns import BreakdownCount
from grc.cus.indicators import cus_indicators
from grc.cus.queries import ResponseCount
from grc.extensions import db
from tests.grc.cus.helpers import lift_breakdowns, responses, utc

PARIS = ZoneInfo("Europe/Paris")
LATER = utc("2026-12-06 12:00")


def test_lift_breakdowns_per_agency_and_landlord(world):
    lift_breakdowns(world)
    report = cus_indicators(db.session, 2025, PARIS, LATER)
    by_code = {row.agency.code: row.figures.breakdowns for row in report.agencies}
    assert by_code == {
        "METZ": BreakdownCount(breakdowns=4, long_breakdowns=3, calls=8, lifts=2),
        "NANCY": BreakdownCount(breakdowns=0, long_breakdowns=0, calls=0, lifts=0),
        "WOIPPY": BreakdownCount(breakdowns=2, long_breakdowns=1, calls=2, lifts=1),
    }
    assert by_code["METZ"].long_per_lift == 1.5
    assert by_code["WOIPPY"].long_per_lift == 1.0
    assert by_code["NANCY"].long_per_lift is None
    landlord = report.landlord.breakdowns
    assert landlord == BreakdownCount(breakdowns=6, long_breakdowns=4, calls=10, lifts=3)
    assert landlord.long_per_lift == pytest.approx(4 / 3)
    # Reconciliation: the landlord is the sum of its agencies.
    for name in ("breakdowns", "long_breakdowns", "calls", "lifts"):
        assert getattr(landlord, name) == sum(getattr(b, name) for b in by_code.values())
    assert report.complete


def test_an_open_breakdown_counts_once_it_has_lasted_four_hours(world):
    lift_breakdowns(world)
    # 20 November 2025 at 10:00 UTC, H has lasted 2 hours: not long yet; nor is D, not
    # started yet; F, G and K are.
    early = cus_indicators(db.session, 2025, PARIS, utc("2025-11-20 10:00"))
    woippy = early.agency("WOIPPY")
    assert woippy is not None
    assert woippy.figures.breakdowns.long_breakdowns == 0
    assert woippy.figures.breakdowns.breakdowns == 2
    assert not early.complete
    later = cus_indicators(db.session, 2025, PARIS, utc("2025-11-20 12:01"))
    assert later.agency("WOIPPY").figures.breakdowns.long_breakdowns == 1  # type: ignore[union-attr]


def test_the_next_year_has_the_breakdown_that_started_on_new_years_night(world):
    lift_breakdowns(world)
    report = cus_indicators(db.session, 2026, PARIS, LATER)
    # C (L2, 1 January 2026 00:30 in Paris, 6 h 30); D's breakdown, open into 2026 and
    # prolonged by M, is 2025's.
    assert report.agency("METZ").figures.breakdowns == BreakdownCount(1, 1, 1, 2)  # type: ignore[union-attr]
    assert report.landlord.breakdowns.breakdowns == 1
    # 2024: A and B (of 2025 in Paris, read as its continuation), 4 hours: not long.
    before = cus_indicators(db.session, 2024, PARIS, LATER)
    assert before.agency("METZ").figures.breakdowns == BreakdownCount(1, 0, 2, 2)  # type: ignore[union-attr]


def test_response_performance_with_a_paused_claim(world):
    responses(world)
    report = cus_indicators(db.session, 2025, PARIS, LATER)
    by_code = {row.agency.code: row.figures.response for row in report.agencies}
    assert by_code == {
        "METZ": ResponseCount(claims=3, on_time=2, late=1),
        "NANCY": ResponseCount(claims=1, on_time=1, late=0),
        "WOIPPY": ResponseCount(claims=2, on_time=1, late=1),
    }
    assert by_code["METZ"].rate == pytest.approx(2 / 3)
    assert report.landlord.response == ResponseCount(claims=6, on_time=4, late=2)
    assert report.landlord.response.rate == pytest.approx(2 / 3)


def test_an_unanswered_claim_is_not_counted_before_its_deadline(world):
    responses(world)
    # 1 May 2025 08:30 UTC: R5 and R6 are due at 09:00, neither decided yet.
    report = cus_indicators(db.session, 2025, PARIS, utc("2025-05-01 08:30"))
    woippy = report.agency("WOIPPY").figures.response  # type: ignore[union-attr]
    assert (woippy.claims, woippy.on_time, woippy.late, woippy.pending) == (2, 1, 0, 1)


def test_no_poll_no_cleanliness_figure(world):
    report = cus_indicators(db.session, 2025, PARIS, LATER)
    assert report.landlord.cleanliness is None
    assert all(row.figures.cleanliness is None for row in report.agencies)
