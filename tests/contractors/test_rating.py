"""Supplier ratings on a fixed set of work orders whose figures are worked out by hand here."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from contractors.rating import (
    PARIS,
    CellCounts,
    Grade,
    GradeThresholds,
    GroupKind,
    OrderCounts,
    Period,
    PeriodKind,
    Rating,
    RatingSettings,
    Weights,
    WorkOrderFacts,
    last_quarters,
    order_counts,
    parse_period,
    period_containing,
    rate_contractors,
    rate_counts,
)

OVERALL, CATEGORY, AGENCY = GroupKind.OVERALL, GroupKind.CATEGORY, GroupKind.AGENCY
Q3 = parse_period("2026-Q3")
# Two days after the quarter: some deadlines have passed, a few have not.
AS_OF = datetime(2026, 10, 2, 12, 0, tzinfo=PARIS).astimezone(UTC)
# Two answers are enough for a grade in these tests.
SETTINGS = RatingSettings(min_answers=2)

MULTI, LIFTS, GONE = 1, 2, 3  # contractors: multiservices, elevators, only a cancelled order


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Paris wall-clock moment of 2026, in UTC as the database gives it."""
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


def order(
    contractor_id: int,
    category: str,
    agency: str,
    sent_at: datetime,
    acknowledge_due: datetime,
    acknowledged_at: datetime | None,
    complete_due: datetime,
    completed_at: datetime | None,
    **kwargs: bool | int | None,
) -> WorkOrderFacts:
    return WorkOrderFacts(
        contractor_id,
        category,
        agency,
        sent_at,
        acknowledge_due,
        acknowledged_at,
        complete_due,
        completed_at,
        **kwargs,  # type: ignore[arg-type]
    )


ORDERS = [
    # o1: on time twice, answered 5.
    order(MULTI, "plomberie", "NORD",
          at(7, 1, 10), at(7, 1, 14), at(7, 1, 11), at(7, 3, 10), at(7, 2, 16), score=5),
    # o2: acknowledged the next morning (late), completed on time, answered 4.
    order(MULTI, "plomberie", "SUD",
          at(7, 15, 9), at(7, 15, 13), at(7, 16, 9), at(7, 17, 18), at(7, 17, 11), score=4),
    # o3: acknowledged on time, completed two days late, answered 2, the claim reopened.
    order(MULTI, "electricite", "NORD",
          at(8, 10, 8), at(8, 10, 12), at(8, 10, 9, 30), at(8, 12, 8), at(8, 14, 15),
          score=2, reopened=True),
    # o4: acknowledged on time; its completion deadline (6 October) is after AS_OF and it is
    # not done yet: left out of the completion share.
    order(MULTI, "electricite", "SUD",
          at(9, 29, 8), at(9, 29, 12), at(9, 29, 10), at(10, 6, 8), None),
    # o5: never acknowledged nor completed, both deadlines long passed: late twice.
    order(MULTI, "plomberie", "NORD",
          at(8, 20, 8), at(8, 20, 12), None, at(8, 24, 8), None),
    # o6: cancelled. Late, answered 1 and reopened, but it counts nowhere.
    order(MULTI, "plomberie", "NORD",
          at(8, 1, 8), at(8, 1, 12), at(8, 3, 9), at(8, 5, 8), None,
          cancelled=True, score=1, reopened=True),
    # o7: sent at 23:30 on 30 June in Paris (21:30 UTC): the second quarter's.
    order(MULTI, "plomberie", "SUD",
          at(6, 30, 23, 30), at(7, 1, 12), at(7, 2, 9), at(7, 3, 12), at(7, 6, 9), score=1),
    # o8: sent at 00:30 on 1 July in Paris (22:30 UTC on 30 June): the third quarter's.
    # Acknowledged at its deadline to the minute (on time), completed on time, answered 4.
    order(MULTI, "electricite", "SUD",
          at(7, 1, 0, 30), at(7, 1, 4, 30), at(7, 1, 4, 30), at(7, 2, 0, 30), at(7, 1, 17),
          score=4),
    # p1: on time twice, answered 5: the only answer of the elevator contractor.
    order(LIFTS, "ascenseur", "NORD",
          at(9, 1, 9), at(9, 1, 10), at(9, 1, 9, 20), at(9, 1, 13), at(9, 1, 12), score=5),
    # p2: acknowledged on time, not completed and its deadline passed: late.
    order(LIFTS, "ascenseur", "NORD",
          at(9, 10, 9), at(9, 10, 10), at(9, 10, 9, 45), at(9, 12, 9), None),
    # p3: sent at 23:30 on 30 September (still Q3); nothing due before AS_OF: left out of
    # both shares, counted in orders.
    order(LIFTS, "ascenseur", "NORD",
          at(9, 30, 23, 30), at(10, 2, 14), None, at(10, 9, 14), None),
    # A contractor whose only order was superseded: no rating at all.
    order(GONE, "ascenseur", "SUD",
          at(9, 2, 9), at(9, 2, 10), None, at(9, 3, 9), None, cancelled=True),
]  # fmt: skip

DEFAULT = Weights()  # 40 / 20 / 25 / 15


def rating(
    contractor_id: int,
    group: GroupKind,
    code: str | None,
    *,
    orders: int,
    answers: int,
    mean: float | None,
    acknowledged: float | None,
    completed: float | None,
    reopen_rate: float | None,
    score: float | None,
    grade: Grade | None,
    weights: Weights = DEFAULT,
) -> Rating:
    return Rating(
        contractor_id=contractor_id,
        group=group,
        code=code,
        orders=orders,
        answers=answers,
        mean_satisfaction=mean,
        acknowledged_on_time=acknowledged,
        completed_on_time=completed,
        reopen_rate=reopen_rate,
        score=score,
        grade=grade,
        enough_answers=answers >= SETTINGS.min_answers,
        weights=weights,
    )


# Satisfaction maps 1..5 to 0..1 as (mean - 1) / 4; a share of orders not reopened is
# 1 - reopen rate; score = 40 sat + 20 ack + 25 done + 15 not reopened (default weights).
EXPECTED = [
    # Multiservices, overall: o1 o2 o3 o4 o5 o8 (o6 cancelled, o7 in Q2) = 6 orders.
    # answers 5, 4, 2, 4: 4 answers, mean 15 / 4 = 3.75 -> satisfaction 2.75 / 4 = 0.6875
    # acknowledged: o1 o3 o4 o8 on time, o2 late, o5 late (unacknowledged, due) -> 4/6
    # completed: o1 o2 o8 on time, o3 late, o5 late (due), o4 not due -> 3/5 = 0.6
    # reopen: among o1 o2 o3 o8 (done), o3 reopened -> 1/4 = 0.25, not reopened 0.75
    # score = 40 * 0.6875 + 20 * 4/6 + 25 * 0.6 + 15 * 0.75
    #       = 27.5 + 13.333... + 15 + 11.25 = 67.0833... -> 67.1, C (55 <= 67.1 < 70)
    rating(MULTI, OVERALL, None, orders=6, answers=4, mean=3.75, acknowledged=4 / 6,
           completed=0.6, reopen_rate=0.25, score=67.1, grade=Grade.C),
    # Multiservices, electricite: o3 o4 o8. answers 2, 4 -> mean 3 -> 0.5
    # acknowledged o3 o4 o8 on time -> 3/3; completed o3 late, o8 on time, o4 not due -> 1/2
    # reopen: o3 o8 done, o3 reopened -> 1/2
    # score = 40 * 0.5 + 20 * 1 + 25 * 0.5 + 15 * 0.5 = 20 + 20 + 12.5 + 7.5 = 60.0, C
    rating(MULTI, CATEGORY, "electricite", orders=3, answers=2, mean=3.0, acknowledged=1.0,
           completed=0.5, reopen_rate=0.5, score=60.0, grade=Grade.C),
    # Multiservices, plomberie: o1 o2 o5. answers 5, 4 -> mean 4.5 -> 0.875
    # acknowledged: o1 on time, o2 late, o5 late -> 1/3; completed o1 o2 on time, o5 late -> 2/3
    # reopen: o1 o2 done, none reopened -> 0
    # score = 40 * 0.875 + 20 / 3 + 25 * 2/3 + 15 * 1 = 35 + 6.667 + 16.667 + 15 = 73.333
    #       -> 73.3, B
    rating(MULTI, CATEGORY, "plomberie", orders=3, answers=2, mean=4.5, acknowledged=1 / 3,
           completed=2 / 3, reopen_rate=0.0, score=73.3, grade=Grade.B),
    # Multiservices, NORD: o1 o3 o5. answers 5, 2 -> mean 3.5 -> 0.625
    # acknowledged o1 o3 on time, o5 late -> 2/3; completed o1 on time, o3 o5 late -> 1/3
    # reopen: o1 o3 done, o3 reopened -> 1/2
    # score = 40 * 0.625 + 20 * 2/3 + 25 / 3 + 15 * 0.5 = 25 + 13.333 + 8.333 + 7.5 = 54.1667
    #       -> 54.2, D (40 <= 54.2 < 55)
    rating(MULTI, AGENCY, "NORD", orders=3, answers=2, mean=3.5, acknowledged=2 / 3,
           completed=1 / 3, reopen_rate=0.5, score=54.2, grade=Grade.D),
    # Multiservices, SUD: o2 o4 o8 (o7 is Q2's). answers 4, 4 -> mean 4 -> 0.75
    # acknowledged o2 late, o4 o8 on time -> 2/3; completed o2 o8 on time, o4 not due -> 2/2
    # reopen: o2 o8 done, none reopened -> 0
    # score = 40 * 0.75 + 20 * 2/3 + 25 * 1 + 15 * 1 = 30 + 13.333 + 25 + 15 = 83.333
    #       -> 83.3, B
    rating(MULTI, AGENCY, "SUD", orders=3, answers=2, mean=4.0, acknowledged=2 / 3,
           completed=1.0, reopen_rate=0.0, score=83.3, grade=Grade.B),
    # Elevators, overall = ascenseur = NORD: p1 p2 p3. One answer (5) -> mean 5 -> 1
    # acknowledged p1 p2 on time, p3 not due -> 2/2; completed p1 on time, p2 late, p3 not
    # due -> 1/2; reopen: p1 done, not reopened -> 0
    # score = 40 * 1 + 20 * 1 + 25 * 0.5 + 15 * 1 = 87.5, which would be an A: one answer
    # is fewer than two, so no grade.
    *(
        rating(LIFTS, group, code, orders=3, answers=1, mean=5.0, acknowledged=1.0,
               completed=0.5, reopen_rate=0.0, score=87.5, grade=None)
        for group, code in ((OVERALL, None), (CATEGORY, "ascenseur"), (AGENCY, "NORD"))
    ),
]  # fmt: skip


def test_ratings_of_a_quarter_match_the_figures_worked_out_by_hand() -> None:
    ratings = rate_contractors(ORDERS, period=Q3, as_of=AS_OF, settings=SETTINGS)

    assert ratings == EXPECTED


def test_too_few_answers_give_a_score_but_no_grade() -> None:
    ratings = rate_contractors(ORDERS, period=Q3, as_of=AS_OF, settings=SETTINGS)
    lifts = next(r for r in ratings if r.contractor_id == LIFTS and r.group is OVERALL)

    assert (lifts.answers, lifts.enough_answers, lifts.grade, lifts.score) == (1, False, None, 87.5)
    # With the default of five answers, no group of the data set has a grade.
    assert {r.grade for r in rate_contractors(ORDERS, period=Q3, as_of=AS_OF)} == {None}


def test_a_contractor_whose_orders_were_all_cancelled_has_no_rating() -> None:
    ratings = rate_contractors(ORDERS, period=Q3, as_of=AS_OF, settings=SETTINGS)

    assert {r.contractor_id for r in ratings} == {MULTI, LIFTS}


def test_orders_belong_to_the_period_by_paris_calendar() -> None:
    q2 = rate_contractors(ORDERS, period=parse_period("2026-Q2"), as_of=AS_OF, settings=SETTINGS)

    # Only o7 (23:30 on 30 June in Paris, answered 1, acknowledged and completed late).
    assert [(r.group, r.code, r.orders, r.answers) for r in q2] == [
        (OVERALL, None, 1, 1),
        (CATEGORY, "plomberie", 1, 1),
        (AGENCY, "SUD", 1, 1),
    ]
    # satisfaction 0, late twice, done and not reopened: 15 * 1 = 15.0, and one answer
    # is fewer than two.
    assert (q2[0].score, q2[0].grade) == (15.0, None)


def test_another_moment_counts_other_deadlines() -> None:
    # At the end of 6 October, o4's completion deadline has passed: late, 3/6.
    later = datetime(2026, 10, 6, 23, 0, tzinfo=PARIS)
    multi = rate_contractors(ORDERS, period=Q3, as_of=later, settings=SETTINGS)[0]

    assert multi.completed_on_time == 0.5
    # score = 27.5 + 13.333 + 25 * 0.5 + 11.25 = 64.5833 -> 64.6
    assert multi.score == 64.6


def test_other_weights_give_other_scores_and_leave_earlier_ratings_as_they_were() -> None:
    before = rate_contractors(ORDERS, period=Q3, as_of=AS_OF, settings=SETTINGS)
    kept = before[0]
    other = Weights(satisfaction=10, acknowledged_on_time=30, completed_on_time=10, not_reopened=50)

    after = rate_contractors(ORDERS, period=Q3, as_of=AS_OF, weights=other, settings=SETTINGS)

    # Multiservices overall: 10 * 0.6875 + 30 * 4/6 + 10 * 0.6 + 50 * 0.75
    #                      = 6.875 + 20 + 6 + 37.5 = 70.375 -> 70.4, B (it was 67.1, C).
    assert (after[0].score, after[0].grade, after[0].weights) == (70.4, Grade.B, other)
    # The counts do not depend on the weights.
    assert dataclasses.replace(after[0], score=None, grade=None, weights=DEFAULT) == (
        dataclasses.replace(kept, score=None, grade=None)
    )
    # What was computed before is a value: unchanged, with the weights it was computed with.
    assert before == EXPECTED
    assert (kept.score, kept.grade, kept.weights) == (67.1, Grade.C, Weights(40, 20, 25, 15))
    with pytest.raises(dataclasses.FrozenInstanceError):
        kept.score = 70.4  # type: ignore[misc]


def test_a_component_with_nothing_to_count_leaves_its_weight_to_the_others() -> None:
    # Acknowledged on time, not completed nor due yet, answered 3: satisfaction 0.5,
    # acknowledged 1, completed and reopen rate None.
    # score = (40 * 0.5 + 20 * 1) / (40 + 20) = 40 / 60 = 66.67 -> 66.7, C
    facts = order(
        MULTI, "plomberie", "NORD", at(9, 28, 9), at(9, 28, 12), at(9, 28, 10), at(10, 20, 9), None,
        score=3,
    )  # fmt: skip
    (overall, *_) = rate_contractors(
        [facts], period=Q3, as_of=AS_OF, settings=RatingSettings(min_answers=1)
    )

    assert (overall.completed_on_time, overall.reopen_rate) == (None, None)
    assert (overall.score, overall.grade) == (66.7, Grade.C)

    # Only satisfaction weighs and nobody answered: no score, no grade.
    unanswered = dataclasses.replace(facts, score=None)
    (overall, *_) = rate_contractors(
        [unanswered], period=Q3, as_of=AS_OF, weights=Weights(100, 0, 0, 0)
    )
    assert (overall.mean_satisfaction, overall.score, overall.grade) == (None, None, None)


def test_scores_are_rounded_half_up() -> None:
    # Answered 2 (satisfaction 0.25), on time, done, not reopened with 45 / 20 / 20 / 15:
    # 45 * 0.25 + 20 + 20 + 15 = 66.25 -> 66.3 (round() on the float would say 66.2).
    facts = order(
        MULTI, "plomberie", "NORD", at(9, 1, 9), at(9, 1, 12), at(9, 1, 10), at(9, 2, 9),
        at(9, 1, 16), score=2,
    )  # fmt: skip
    (overall, *_) = rate_contractors(
        [facts],
        period=Q3,
        as_of=AS_OF,
        weights=Weights(45, 20, 20, 15),
        settings=RatingSettings(min_answers=1),
    )

    assert overall.score == 66.3


def test_grades_follow_the_thresholds() -> None:
    default = GradeThresholds()
    assert [default.grade(s) for s in (100, 85.0, 84.9, 70.0, 69.9, 55.0, 54.9, 40.0, 39.9, 0)] == [
        Grade.A, Grade.A, Grade.B, Grade.B, Grade.C, Grade.C, Grade.D, Grade.D, Grade.E, Grade.E,
    ]  # fmt: skip
    stricter = GradeThresholds(a=90, b=80, c=65, d=50)
    assert [stricter.grade(s) for s in (89.9, 67.1, 49.9)] == [Grade.B, Grade.C, Grade.E]

    ratings = rate_contractors(
        ORDERS,
        period=Q3,
        as_of=AS_OF,
        settings=RatingSettings(min_answers=2, thresholds=stricter),
    )
    assert (ratings[0].score, ratings[0].grade) == (67.1, Grade.C)
    assert ratings[1].grade is Grade.D  # electricite, 60.0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Weights(40, 20, 25, 10), "add up to 100, not 95"),
        (lambda: Weights(60, -5, 30, 15), "acknowledged_on_time must not be negative"),
        (lambda: Weights(40.5, 20, 24.5, 15), "satisfaction must be a whole number"),  # type: ignore[arg-type]
        (lambda: RatingSettings(min_answers=0), "min_answers must be at least 1"),
        (lambda: GradeThresholds(a=85, b=90), "must go down from A to D"),
        (lambda: GradeThresholds(a=120), "must go down from A to D"),
        (lambda: dataclasses.replace(ORDERS[0], score=6), "a survey score is 1 to 5, not 6"),
        (lambda: dataclasses.replace(ORDERS[0], score=0), "a survey score is 1 to 5, not 0"),
    ],
)
def test_bad_settings_and_facts_are_refused(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]


def test_the_moment_of_the_figures_must_be_aware() -> None:
    with pytest.raises(ValueError, match="as_of must be an aware datetime"):
        rate_contractors(ORDERS, period=Q3, as_of=datetime(2026, 10, 2, 12))  # noqa: DTZ001


def test_one_pass_over_an_iterator() -> None:
    ratings = rate_contractors(iter(ORDERS), period=Q3, as_of=AS_OF, settings=SETTINGS)

    assert ratings == EXPECTED


def test_counts_added_up_elsewhere_give_the_same_ratings() -> None:
    """A query adds up the orders' counts per contractor, category and agency: the ratings
    are those of the orders themselves, whatever way the cells are cut."""
    one_cell_per_order = [
        CellCounts(o.contractor_id, o.category, o.agency, order_counts(o, AS_OF))
        for o in ORDERS
        if not o.cancelled and Q3.contains(o.sent_at)
    ]
    added: dict[tuple[int, str, str], OrderCounts] = {}
    for cell in one_cell_per_order:
        added.setdefault((cell.contractor_id, cell.category, cell.agency), OrderCounts()).add(
            cell.counts
        )
    cells = [CellCounts(*key, counts) for key, counts in added.items()]

    assert rate_counts(one_cell_per_order, settings=SETTINGS) == EXPECTED
    assert rate_counts(reversed(cells), settings=SETTINGS) == EXPECTED
    assert rate_counts([*cells, CellCounts(GONE, "X", "Y", OrderCounts())], settings=SETTINGS) == (
        EXPECTED
    )


# --- periods -------------------------------------------------------------------------------


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("label", "start", "end"),
    [
        # Winter time (UTC+1) on both sides.
        ("2026-Q1", utc(2025, 12, 31, 23), utc(2026, 3, 31, 22)),
        # Summer time (UTC+2) on both sides.
        ("2026-Q3", utc(2026, 6, 30, 22), utc(2026, 9, 30, 22)),
        ("2026-Q4", utc(2026, 9, 30, 22), utc(2026, 12, 31, 23)),
        ("2026-07", utc(2026, 6, 30, 22), utc(2026, 7, 31, 22)),
        ("2026-12", utc(2026, 11, 30, 23), utc(2026, 12, 31, 23)),
        ("2028-02", utc(2028, 1, 31, 23), utc(2028, 2, 29, 23)),
    ],
)
def test_periods_are_bounded_by_paris_midnights(label: str, start: datetime, end: datetime) -> None:
    period = parse_period(label)

    assert (period.start, period.end) == (start, end)
    assert period.start.tzinfo is UTC
    assert period.label == str(period) == label


def test_months_with_a_clock_change_are_an_hour_shorter_or_longer() -> None:
    # Summer time begins on 29 March 2026 and ends on 25 October 2026.
    march, october = parse_period("2026-03"), parse_period("2026-10")

    assert (march.start, march.end) == (utc(2026, 2, 28, 23), utc(2026, 3, 31, 22))
    assert march.end - march.start == timedelta(days=31, hours=-1)
    assert (october.start, october.end) == (utc(2026, 9, 30, 22), utc(2026, 10, 31, 23))
    assert october.end - october.start == timedelta(days=31, hours=1)
    # 00:30 on 1 April in Paris is 22:30 UTC on 31 March: April's.
    assert not march.contains(utc(2026, 3, 31, 22, 30))
    assert march.contains(utc(2026, 3, 31, 21, 59))
    assert march.contains(march.start)
    assert not march.contains(march.end)


def test_periods_containing_a_moment() -> None:
    first_of_april = utc(2026, 3, 31, 22, 30)  # 00:30 in Paris

    assert period_containing(first_of_april, PeriodKind.MONTH).label == "2026-04"
    assert period_containing(first_of_april, PeriodKind.QUARTER).label == "2026-Q2"
    assert period_containing(utc(2026, 12, 31, 23, 30), PeriodKind.QUARTER).label == "2027-Q1"
    with pytest.raises(ValueError, match="aware"):
        period_containing(datetime(2026, 4, 1), PeriodKind.MONTH)  # noqa: DTZ001


def test_the_last_quarters_for_a_trend() -> None:
    labels = [p.label for p in last_quarters(parse_period("2026-Q1"))]

    assert labels == ["2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1"]
    assert [p.label for p in last_quarters(parse_period("2026-08"), 2)] == ["2026-Q2", "2026-Q3"]
    assert parse_period("2026-01").previous() == parse_period("2025-12")
    with pytest.raises(ValueError, match="count must be at least 1"):
        last_quarters(Q3, 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-Q5", "quarter must be between 1 and 4, not 5"),
        ("2026-Q0", "quarter must be between 1 and 4, not 0"),
        ("2026-13", "month must be between 1 and 12, not 13"),
        ("2026-00", "month must be between 1 and 12, not 0"),
        ("0000-Q1", "year 0 is out of range"),
        ("9999-12", "year 9999 is out of range"),
        ("2026-7", "written like 2026-Q3 or 2026-07"),
        ("2026-q3", "written like 2026-Q3 or 2026-07"),
        ("2026Q3", "written like 2026-Q3 or 2026-07"),
        ("26-Q3", "written like 2026-Q3 or 2026-07"),
        ("2026-Q3\n", "written like 2026-Q3 or 2026-07"),
        (" 2026-07", "written like 2026-Q3 or 2026-07"),
        ("2026-07-01", "written like 2026-Q3 or 2026-07"),
        ("٢٠٢٦-07", "written like 2026-Q3 or 2026-07"),
        ("", "written like 2026-Q3 or 2026-07"),
    ],
)
def test_bad_periods_are_refused_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_period(text)


def test_a_period_in_another_time_zone() -> None:
    reunion = parse_period("2026-07", tz=ZoneInfo("Indian/Reunion"))

    assert reunion.start == utc(2026, 6, 30, 20)
    assert reunion != parse_period("2026-07")
    assert Period(PeriodKind.QUARTER, 2026, 3) == Q3
