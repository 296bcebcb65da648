"""Stored ratings written directly, for the pages' tests (the computation is tested in
test_ratings_store)."""

from __future__ import annotations

from datetime import UTC, datetime

from contractors.rating import Grade, GroupKind, PeriodKind
from grc.extensions import db
from grc.ratings.models import ContractorRating

COMPUTED = datetime(2026, 10, 1, 3, 15, tzinfo=UTC)


def stored(
    contractor_id: int, period: str, score: float, grade: Grade | None, answers: int
) -> ContractorRating:
    row = ContractorRating(
        contractor_id=contractor_id,
        period=period,
        period_kind=PeriodKind.QUARTER if "Q" in period else PeriodKind.MONTH,
        group_kind=GroupKind.OVERALL,
        group_code="",
        orders=answers * 2 + 3,
        answers=answers,
        mean_satisfaction=4.2 if answers else None,
        acknowledged_on_time=0.9,
        completed_on_time=0.75,
        reopen_rate=0.05,
        score=score,
        grade=grade,
        enough_answers=grade is not None,
        weight_satisfaction=40,
        weight_acknowledged_on_time=20,
        weight_completed_on_time=25,
        weight_not_reopened=15,
        min_answers=5,
        threshold_a=85,
        threshold_b=70,
        threshold_c=55,
        threshold_d=40,
        computed_at=COMPUTED,
    )
    db.session.add(row)
    return row


def a_year_of_ratings(world) -> None:
    """Two contractors over the four quarters up to 2026-Q3; the second has too few answers
    in 2026-Q3."""
    multi, elev = world.contractors["MULTI"].id, world.contractors["ELEV"].id
    for period, (a, b) in {
        "2025-Q4": (68.0, 81.5),
        "2026-Q1": (72.4, 79.0),
        "2026-Q2": (77.9, 74.2),
        "2026-Q3": (86.3, 71.0),
    }.items():
        stored(multi, period, a, Grade.A if a >= 85 else Grade.B if a >= 70 else Grade.C, 12)
        last = period == "2026-Q3"
        stored(elev, period, b, None if last else Grade.B, 3 if last else 8)
    db.session.commit()
