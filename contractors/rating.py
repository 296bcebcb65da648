"""Supplier ratings: a contractor's figures for a month or a quarter, a score and a grade.

Pure computation, fed with one :class:`WorkOrderFacts` per work order (plain values a
query can fill): :func:`rate_contractors` returns one :class:`Rating` per contractor
overall, per category and per agency, in one pass over the orders. A query that adds up
the orders' :class:`OrderCounts` per contractor, category and agency itself hands them to
:func:`rate_counts` instead, for the same ratings.

The figures of a group:

* ``orders``: work orders sent in the period (by ``sent_at``, the landlord's calendar).
  A cancelled or superseded order counts nowhere: not in ``orders``, not in any share,
  and its survey answer is not an answer.
* ``answers`` and ``mean_satisfaction``: the survey scores (1 to 5) of those orders.
* ``acknowledged_on_time``: share of orders acknowledged by their deadline (a moment equal
  to the deadline is on time). An order not acknowledged whose deadline has passed at
  ``as_of`` counts as late; one whose deadline has not passed yet is left out of the share.
* ``completed_on_time``: the same with the completion deadline.
* ``reopen_rate``: share of the orders whose work was reported done (or that were reopened)
  after which the claim was reopened or the tenant said the work was not done.

A share with nothing to count is None. The score is a weighted mean, out of 100, of four
components: satisfaction mapped linearly from 1..5 to 0..100, the two on-time shares and
the share not reopened, each times 100. A component that is None is left out and the
others' weights share its part (a contractor whose orders are all still within their
completion deadline is scored on the rest); with none left the score is None. The score is
rounded half up to one decimal, and the grade is read on that rounded score (see
:class:`GradeThresholds`).

Below ``min_answers`` survey answers the group has ``enough_answers=False`` and no grade:
a page says "not enough answers" rather than a misleading letter. The score is still
computed, for those who want to look closer.

Each rating carries the weights it was computed with: a stored rating keeps its score and
grade when an administrator changes the weights later.

Periods are months (``2026-07``) and quarters (``2026-Q3``) of the landlord's calendar
(Europe/Paris by default), as aware UTC bounds ``[start, end)``: see :func:`parse_period`,
:func:`period_containing` and :func:`last_quarters`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

__all__ = [
    "PARIS",
    "CellCounts",
    "Grade",
    "GradeThresholds",
    "GroupKind",
    "OrderCounts",
    "Period",
    "PeriodKind",
    "Rating",
    "RatingSettings",
    "Weights",
    "WorkOrderFacts",
    "last_quarters",
    "order_counts",
    "parse_period",
    "period_containing",
    "rate_contractors",
    "rate_counts",
]

PARIS = ZoneInfo("Europe/Paris")

# --- periods -------------------------------------------------------------------------------


class PeriodKind(StrEnum):
    """Stored in the database: the values must not change."""

    MONTH = "month"
    QUARTER = "quarter"


# ASCII digits only: ``\d`` would take "٢٠٢٦".
_QUARTER = re.compile(r"([0-9]{4})-Q([0-9])")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_FIRST_YEAR = 1970
_LAST_YEAR = 9998  # the end of 9999 is beyond what datetime holds


@dataclass(frozen=True, slots=True)
class Period:
    """A month (``number`` 1-12) or a quarter (``number`` 1-4) of a calendar year in ``tz``.

    ``start`` and ``end`` are the UTC moments of local midnight on its first day and on
    the first day after it: a work order belongs to the period when
    ``start <= sent_at < end``.
    """

    kind: PeriodKind
    year: int
    number: int
    tz: ZoneInfo = PARIS

    def __post_init__(self) -> None:
        if not _FIRST_YEAR <= self.year <= _LAST_YEAR:
            raise ValueError(f"year {self.year} is out of range ({_FIRST_YEAR}-{_LAST_YEAR})")
        last = 12 if self.kind is PeriodKind.MONTH else 4
        if not 1 <= self.number <= last:
            name = "month" if self.kind is PeriodKind.MONTH else "quarter"
            raise ValueError(f"{name} must be between 1 and {last}, not {self.number}")

    @property
    def label(self) -> str:
        """``2026-07`` or ``2026-Q3``: what :func:`parse_period` reads back."""
        if self.kind is PeriodKind.MONTH:
            return f"{self.year:04d}-{self.number:02d}"
        return f"{self.year:04d}-Q{self.number}"

    def _first_month(self) -> tuple[int, int]:
        if self.kind is PeriodKind.MONTH:
            return self.year, self.number
        return self.year, 3 * self.number - 2

    @property
    def start(self) -> datetime:
        year, month = self._first_month()
        return datetime(year, month, 1, tzinfo=self.tz).astimezone(UTC)

    @property
    def end(self) -> datetime:
        year, month = self._first_month()
        month += 1 if self.kind is PeriodKind.MONTH else 3
        if month > 12:
            year, month = year + 1, month - 12
        return datetime(year, month, 1, tzinfo=self.tz).astimezone(UTC)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def previous(self) -> Period:
        if self.number > 1:
            return Period(self.kind, self.year, self.number - 1, self.tz)
        last = 12 if self.kind is PeriodKind.MONTH else 4
        return Period(self.kind, self.year - 1, last, self.tz)

    def quarter(self) -> Period:
        """The quarter this period is (or falls in)."""
        if self.kind is PeriodKind.QUARTER:
            return self
        return Period(PeriodKind.QUARTER, self.year, (self.number - 1) // 3 + 1, self.tz)

    def __str__(self) -> str:
        return self.label


def parse_period(text: str, *, tz: ZoneInfo = PARIS) -> Period:
    """``"2026-Q3"`` or ``"2026-07"`` as a :class:`Period`; anything else is a ValueError.

    Exactly these spellings: four-digit year, capital Q, two-digit month, nothing around.
    """
    if not isinstance(text, str):
        raise ValueError(f"a period is written like 2026-Q3 or 2026-07, not {text!r}")
    if match := _QUARTER.fullmatch(text):
        return Period(PeriodKind.QUARTER, int(match[1]), int(match[2]), tz)
    if match := _MONTH.fullmatch(text):
        return Period(PeriodKind.MONTH, int(match[1]), int(match[2]), tz)
    raise ValueError(f"a period is written like 2026-Q3 or 2026-07, not {text!r}")


def period_containing(moment: datetime, kind: PeriodKind, *, tz: ZoneInfo = PARIS) -> Period:
    """The month or quarter of ``tz``'s calendar in which the aware ``moment`` falls."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("moment must be an aware datetime")
    local = moment.astimezone(tz)
    if kind is PeriodKind.MONTH:
        return Period(kind, local.year, local.month, tz)
    return Period(kind, local.year, (local.month - 1) // 3 + 1, tz)


def last_quarters(period: Period, count: int = 4) -> list[Period]:
    """The ``count`` quarters ending with ``period``'s quarter, oldest first (for a trend)."""
    if count < 1:
        raise ValueError(f"count must be at least 1, not {count}")
    quarters = [period.quarter()]
    for _ in range(count - 1):
        quarters.append(quarters[-1].previous())
    quarters.reverse()
    return quarters


# --- settings ------------------------------------------------------------------------------


def _check_whole(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, not {value!r}")


@dataclass(frozen=True, slots=True)
class Weights:
    """How much each component counts in the score, in whole percent summing to 100.

    Not normalised: an administrator sets shares of 100 and sees them as set; anything else
    is a ValueError. A weight may be 0 (the component then does not count).
    """

    satisfaction: int = 40
    acknowledged_on_time: int = 20
    completed_on_time: int = 25
    not_reopened: int = 15

    def __post_init__(self) -> None:
        values = (
            self.satisfaction,
            self.acknowledged_on_time,
            self.completed_on_time,
            self.not_reopened,
        )
        for name, value in zip(_COMPONENTS, values, strict=True):
            _check_whole(name, value)
            if value < 0:
                raise ValueError(f"{name} must not be negative, not {value}")
        if sum(values) != 100:
            raise ValueError(f"the weights must add up to 100, not {sum(values)}")


_COMPONENTS = ("satisfaction", "acknowledged_on_time", "completed_on_time", "not_reopened")


class Grade(StrEnum):
    """Stored in the database: the values must not change."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"


@dataclass(frozen=True, slots=True)
class GradeThresholds:
    """The lowest (rounded) score of each grade: A from 85, B from 70, C from 55, D from
    40, E below. Each must be lower than the one before, within 0..100."""

    a: float = 85
    b: float = 70
    c: float = 55
    d: float = 40

    def __post_init__(self) -> None:
        if not 100 >= self.a > self.b > self.c > self.d >= 0:
            raise ValueError(
                "grade thresholds must go down from A to D within 0..100, "
                f"not {self.a}, {self.b}, {self.c}, {self.d}"
            )

    def grade(self, score: float) -> Grade:
        if score >= self.a:
            return Grade.A
        if score >= self.b:
            return Grade.B
        if score >= self.c:
            return Grade.C
        if score >= self.d:
            return Grade.D
        return Grade.E


@dataclass(frozen=True, slots=True)
class RatingSettings:
    """``min_answers``: survey answers a group needs for a grade (at least 1)."""

    min_answers: int = 5
    thresholds: GradeThresholds = field(default_factory=GradeThresholds)

    def __post_init__(self) -> None:
        _check_whole("min_answers", self.min_answers)
        if self.min_answers < 1:
            raise ValueError(f"min_answers must be at least 1, not {self.min_answers}")


# --- inputs and outputs --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkOrderFacts:
    """One work order as the rating needs it; every datetime aware (UTC from the database).

    ``reopened``: the claim was reopened after this order's work was reported done, or the
    survey said the work was not done. ``score``: the survey's answer, 1 to 5, or None.
    ``cancelled``: cancelled or superseded; such an order counts nowhere.
    """

    contractor_id: int
    category: str
    agency: str
    sent_at: datetime
    acknowledge_due: datetime
    acknowledged_at: datetime | None
    complete_due: datetime
    completed_at: datetime | None
    cancelled: bool = False
    reopened: bool = False
    score: int | None = None

    def __post_init__(self) -> None:
        if self.score is not None and not (
            isinstance(self.score, int)
            and not isinstance(self.score, bool)
            and 1 <= self.score <= 5
        ):
            raise ValueError(f"a survey score is 1 to 5, not {self.score!r}")


class GroupKind(StrEnum):
    """Stored in the database: the values must not change."""

    OVERALL = "overall"
    CATEGORY = "category"
    AGENCY = "agency"


@dataclass(frozen=True, slots=True)
class Rating:
    """A contractor's figures for one group of its orders in the period.

    ``code`` is the category or agency code, None for the overall group. Shares are
    fractions in 0..1 (None when nothing counts in them); ``score`` is out of 100 with one
    decimal; ``grade`` is None when ``enough_answers`` is False or there is no score.
    """

    contractor_id: int
    group: GroupKind
    code: str | None
    orders: int
    answers: int
    mean_satisfaction: float | None
    acknowledged_on_time: float | None
    completed_on_time: float | None
    reopen_rate: float | None
    score: float | None
    grade: Grade | None
    enough_answers: bool
    weights: Weights


@dataclass(slots=True)
class OrderCounts:
    """The counts of a group of work orders that its figures are made of; one order counts
    as :func:`order_counts` says, and a group's counts are the sums of its orders'.

    A query may add them up itself (one row per contractor, category and agency) and hand
    them to :func:`rate_counts` instead of the orders: the same ratings, without a million
    orders crossing over to Python."""

    orders: int = 0
    answers: int = 0
    score_sum: int = 0
    ack_counted: int = 0
    ack_on_time: int = 0
    done_counted: int = 0
    done_on_time: int = 0
    reopen_counted: int = 0
    reopened: int = 0

    def add(self, other: OrderCounts) -> None:
        self.orders += other.orders
        self.answers += other.answers
        self.score_sum += other.score_sum
        self.ack_counted += other.ack_counted
        self.ack_on_time += other.ack_on_time
        self.done_counted += other.done_counted
        self.done_on_time += other.done_on_time
        self.reopen_counted += other.reopen_counted
        self.reopened += other.reopened


def order_counts(order: WorkOrderFacts, as_of: datetime) -> OrderCounts:
    """What one work order (not cancelled) adds to its groups at ``as_of``: an order not
    acknowledged (or not completed) counts as late once its deadline has passed, and is
    left out of the share before; only an order done, or reopened, counts in the reopen
    rate."""
    if order.acknowledged_at is not None:
        ack_counted, ack_on_time = 1, int(order.acknowledged_at <= order.acknowledge_due)
    else:
        ack_counted, ack_on_time = int(order.acknowledge_due < as_of), 0
    if order.completed_at is not None:
        done_counted, done_on_time = 1, int(order.completed_at <= order.complete_due)
    else:
        done_counted, done_on_time = int(order.complete_due < as_of), 0
    return OrderCounts(
        orders=1,
        answers=int(order.score is not None),
        score_sum=order.score or 0,
        ack_counted=ack_counted,
        ack_on_time=ack_on_time,
        done_counted=done_counted,
        done_on_time=done_on_time,
        reopen_counted=int(order.completed_at is not None or order.reopened),
        reopened=int(order.reopened),
    )


@dataclass(frozen=True, slots=True)
class CellCounts:
    """The counts of one contractor's orders of one category in one agency: the smallest
    group, from which the overall, category and agency groups are added up."""

    contractor_id: int
    category: str
    agency: str
    counts: OrderCounts


def _tenths(components: Iterable[tuple[int, int, int]]) -> int | None:
    """The weighted mean of ``(weight, numerator, denominator)`` fractions, out of 100, in
    tenths rounded half up (72.25 gives 72.3 whatever floats would say); None when no
    weight is left.

    Whole numbers only, exact and far quicker than :class:`fractions.Fraction`: with
    ``D`` the product of the denominators and ``W`` the sum of the weights,
    ``score = 100 * sum(w * n / d) / W`` and ``tenths = floor((2000 * N + D * W) / (2 * D * W))``
    where ``N = sum(w * n * D / d)``.
    """
    counted = [(w, n, d) for w, n, d in components if d]
    total_weight = sum(w for w, _, _ in counted)
    if not total_weight:
        return None
    product = math.prod(d for _, _, d in counted)
    weighted = sum(w * n * (product // d) for w, n, d in counted)
    return (2000 * weighted + product * total_weight) // (2 * product * total_weight)


def _rating(
    key: tuple[int, GroupKind, str | None],
    tally: OrderCounts,
    weights: Weights,
    settings: RatingSettings,
) -> Rating:
    answers = tally.answers
    tenths = _tenths(
        (
            # Satisfaction: (mean - 1) / 4 = (sum - answers) / (4 * answers).
            (weights.satisfaction, tally.score_sum - answers, 4 * answers),
            (weights.acknowledged_on_time, tally.ack_on_time, tally.ack_counted),
            (weights.completed_on_time, tally.done_on_time, tally.done_counted),
            (weights.not_reopened, tally.reopen_counted - tally.reopened, tally.reopen_counted),
        )
    )
    score = None if tenths is None else tenths / 10
    enough = answers >= settings.min_answers
    contractor_id, group, code = key
    return Rating(
        contractor_id=contractor_id,
        group=group,
        code=code,
        orders=tally.orders,
        answers=answers,
        mean_satisfaction=tally.score_sum / answers if answers else None,
        acknowledged_on_time=_share(tally.ack_on_time, tally.ack_counted),
        completed_on_time=_share(tally.done_on_time, tally.done_counted),
        reopen_rate=_share(tally.reopened, tally.reopen_counted),
        score=score,
        grade=settings.thresholds.grade(score) if enough and score is not None else None,
        enough_answers=enough,
        weights=weights,
    )


def _share(part: int, whole: int) -> float | None:
    # int / int is correctly rounded: 2 / 3 here equals the 2 / 3 a test writes.
    return part / whole if whole else None


_GROUP_ORDER = {GroupKind.OVERALL: 0, GroupKind.CATEGORY: 1, GroupKind.AGENCY: 2}


def rate_contractors(
    orders: Iterable[WorkOrderFacts],
    *,
    period: Period,
    as_of: datetime,
    weights: Weights | None = None,
    settings: RatingSettings | None = None,
) -> list[Rating]:
    """Every contractor's ratings for ``period``: overall, per category, per agency.

    Orders sent outside the period are skipped, so a query may return more. ``as_of`` (aware)
    is the moment the figures are taken at: the deadlines that have passed by then count.
    Only contractors with at least one counted order appear. Sorted by contractor, then
    overall, categories, agencies, by code. One pass over the orders, counted per
    contractor, category and agency (:func:`order_counts`), then :func:`rate_counts`.
    """
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError("as_of must be an aware datetime")
    start, end = period.start, period.end
    cells: dict[tuple[int, str, str], OrderCounts] = {}
    for order in orders:
        if order.cancelled or not start <= order.sent_at < end:
            continue
        key = (order.contractor_id, order.category, order.agency)
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = OrderCounts()
        cell.add(order_counts(order, as_of))
    return rate_counts(
        (CellCounts(*key, counts) for key, counts in cells.items()),
        weights=weights,
        settings=settings,
    )


def rate_counts(
    cells: Iterable[CellCounts],
    *,
    weights: Weights | None = None,
    settings: RatingSettings | None = None,
) -> list[Rating]:
    """Every contractor's ratings from the counts of its orders per category and agency
    (the orders of the period, not cancelled, counted at one moment: see
    :func:`order_counts`): overall, per category, per agency, sorted as
    :func:`rate_contractors` sorts them. A cell with no order counts nowhere."""
    weights = weights or Weights()
    settings = settings or RatingSettings()
    tallies: dict[tuple[int, GroupKind, str | None], OrderCounts] = {}
    for cell in cells:
        if not cell.counts.orders:
            continue
        contractor = cell.contractor_id
        for key in (
            (contractor, GroupKind.OVERALL, None),
            (contractor, GroupKind.CATEGORY, cell.category),
            (contractor, GroupKind.AGENCY, cell.agency),
        ):
            tally = tallies.get(key)
            if tally is None:
                tally = tallies[key] = OrderCounts()
            tally.add(cell.counts)
    keys = sorted(tallies, key=lambda k: (k[0], _GROUP_ORDER[k[1]], k[2] or ""))
    return [_rating(key, tallies[key], weights, settings) for key in keys]
