"""The indicators as the API's plain data (the pages read the report itself)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from grc.cus.indicators import CusReport, Figures


def figures_dict(figures: Figures) -> dict[str, Any]:
    breakdowns, response = figures.breakdowns, figures.response
    return {
        "lift_breakdowns": {
            "long_per_lift": breakdowns.long_per_lift,
            "long_breakdowns": breakdowns.long_breakdowns,
            "breakdowns": breakdowns.breakdowns,
            "lifts": breakdowns.lifts,
            "calls": breakdowns.calls,
        },
        "cleanliness": asdict(figures.cleanliness) if figures.cleanliness else None,
        "response": {
            "on_time_rate": response.rate,
            "claims": response.claims,
            "on_time": response.on_time,
            "late": response.late,
            "pending": response.pending,
        },
    }


def report_dict(report: CusReport, agency: str | None = None) -> dict[str, Any]:
    """The report, with one agency's figures only when ``agency`` names it."""
    return {
        "year": report.year,
        "start": report.start,
        "end": report.end,
        "computed_at": report.computed_at,
        "complete": report.complete,
        "agencies": [
            {"agency": asdict(row.agency), **figures_dict(row.figures)}
            for row in report.agencies
            if agency is None or row.agency.code == agency
        ],
        "landlord": figures_dict(report.landlord),
    }
