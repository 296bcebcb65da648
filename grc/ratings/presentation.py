"""Stored ratings as the API and the pages show them: dictionaries, CSV, orders."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from grc.ratings.models import ContractorRating
from grc.ratings.operations import CurrentSettings

CSV_COLUMNS = (
    "contractor_code",
    "contractor_name",
    "period",
    "group",
    "code",
    "orders",
    "answers",
    "mean_satisfaction",
    "acknowledged_on_time",
    "completed_on_time",
    "reopen_rate",
    "score",
    "grade",
    "enough_answers",
    "weight_satisfaction",
    "weight_acknowledged_on_time",
    "weight_completed_on_time",
    "weight_not_reopened",
    "min_answers",
    "computed_at",
)

# A spreadsheet reads a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def as_dict(row: ContractorRating) -> dict[str, Any]:
    return {
        "contractor": row.contractor,
        "period": row.period,
        "group": row.group_kind.value,
        "code": row.group_code or None,
        "orders": row.orders,
        "answers": row.answers,
        "mean_satisfaction": row.mean_satisfaction,
        "acknowledged_on_time": row.acknowledged_on_time,
        "completed_on_time": row.completed_on_time,
        "reopen_rate": row.reopen_rate,
        "score": row.score,
        "grade": row.grade.value if row.grade else None,
        "enough_answers": row.enough_answers,
        "weights": {
            "satisfaction": row.weight_satisfaction,
            "acknowledged_on_time": row.weight_acknowledged_on_time,
            "completed_on_time": row.weight_completed_on_time,
            "not_reopened": row.weight_not_reopened,
        },
        "min_answers": row.min_answers,
        "thresholds": {
            "a": row.threshold_a,
            "b": row.threshold_b,
            "c": row.threshold_c,
            "d": row.threshold_d,
        },
        "computed_at": row.computed_at,
    }


def settings_dict(current: CurrentSettings) -> dict[str, Any]:
    thresholds = current.settings.thresholds
    return {
        "weights": {
            "satisfaction": current.weights.satisfaction,
            "acknowledged_on_time": current.weights.acknowledged_on_time,
            "completed_on_time": current.weights.completed_on_time,
            "not_reopened": current.weights.not_reopened,
        },
        "min_answers": current.settings.min_answers,
        "thresholds": {"a": thresholds.a, "b": thresholds.b, "c": thresholds.c, "d": thresholds.d},
    }


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: Sequence[ContractorRating]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            _cell(value)
            for value in (
                row.contractor.code,
                row.contractor.name,
                row.period,
                row.group_kind.value,
                row.group_code,
                row.orders,
                row.answers,
                row.mean_satisfaction,
                row.acknowledged_on_time,
                row.completed_on_time,
                row.reopen_rate,
                row.score,
                row.grade.value if row.grade else None,
                row.enough_answers,
                row.weight_satisfaction,
                row.weight_acknowledged_on_time,
                row.weight_completed_on_time,
                row.weight_not_reopened,
                row.min_answers,
                row.computed_at.isoformat(),
            )
        )
    return out.getvalue()


_GRADE_RANK = {"A": 0, "B": 1, "C": 2, "D": 3, "E": 4}


def sort(rows: Sequence[ContractorRating], by: str) -> list[ContractorRating]:
    """``score``: best first, no score last; ``name``: by contractor name; ``grade``: A
    first, no grade last, then by score."""

    def score_key(row: ContractorRating) -> tuple[bool, float]:
        return (row.score is None, -(row.score or 0.0))

    if by == "name":
        return sorted(rows, key=lambda row: (row.contractor.name.casefold(), row.contractor_id))
    if by == "grade":
        return sorted(
            rows,
            key=lambda row: (
                _GRADE_RANK.get(row.grade.value, 5) if row.grade else 5,
                *score_key(row),
                row.contractor.name.casefold(),
            ),
        )
    return sorted(rows, key=lambda row: (*score_key(row), row.contractor.name.casefold()))
