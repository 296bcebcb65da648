"""The CUS pages for managers and administrators: a year's indicators per agency and for
the landlord, and an agency's one-page yearly sheet, printable. Thin over
``grc.cus.indicators``."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from flask_babel import format_decimal, format_percent

from grc.auth import Permission
from grc.clock import local_today, settings
from grc.cus.indicators import FIRST_YEAR, cus_indicators
from grc.db import utcnow
from grc.extensions import db
from grc.web.pages import page, page_blueprint

blp = page_blueprint("cus_page", __name__)

# The menu entry belongs to the reports' pages (which link here): none of its own.


def _per_lift(value: float | None) -> str:
    return "—" if value is None else format_decimal(value, format="#,##0.00")


def _share(value: float | None) -> str:
    return "—" if value is None else format_percent(value, format="#,##0.0 %")


def _points(value: float) -> str:
    """A margin of error in percentage points (0.031 → "3,1")."""
    return format_decimal(value * 100, format="#,##0.0")


FORMATS = {"per_lift": _per_lift, "share": _share, "points": _points}


@blp.get("/reports/cus")
@page(Permission.REPORTS_READ)
def index() -> Any:
    this_year = local_today().year
    text = request.args.get("year", "").strip()
    year, error = this_year, False
    if text:
        if text.isdigit() and FIRST_YEAR <= int(text) <= this_year:
            year = int(text)
        else:
            error = True
    report = cus_indicators(db.session, year, settings().tz, utcnow())
    return render_template(
        "cus/index.html",
        report=report,
        year_text=text if error else str(year),
        error=error,
        first_year=FIRST_YEAR,
        this_year=this_year,
        **FORMATS,
    )


@blp.get("/reports/cus/<code>/<int:year>")
@page(Permission.REPORTS_READ)
def sheet(code: str, year: int) -> Any:
    if not FIRST_YEAR <= year <= local_today().year:
        abort(404)
    report = cus_indicators(db.session, year, settings().tz, utcnow())
    row = report.agency(code.upper())
    if row is None:
        abort(404)
    return render_template("cus/sheet.html", report=report, row=row, **FORMATS)
