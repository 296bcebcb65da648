"""The ratings page for managers and administrators: every contractor's overall rating for
a period, sortable, with its trend over the last four quarters. Thin over
``grc.ratings.operations``."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import format_decimal, format_percent
from flask_babel import lazy_gettext as _l

from contractors.rating import GroupKind, last_quarters, parse_period, period_containing
from contractors.rating import PeriodKind as Kind
from grc.auth import Permission
from grc.clock import settings
from grc.db import utcnow
from grc.extensions import db
from grc.ratings import presentation
from grc.ratings.operations import overall_by_period, stored_ratings
from grc.ratings.schemas import SORTS
from grc.web.pages import NavItem, add_to_navigation, page, page_blueprint

blp = page_blueprint("ratings_page", __name__)

add_to_navigation(NavItem("ratings_page.index", _l("Supplier ratings"), Permission.RATINGS_READ))


def _score(value: float | None) -> str:
    return "—" if value is None else format_decimal(value, format="#0.0")


def _share(value: float | None) -> str:
    return "—" if value is None else format_percent(value, format="#0 %")


@blp.get("/ratings")
@page(Permission.RATINGS_READ)
def index() -> Any:
    tz = settings().tz
    text = request.args.get("period", "").strip()
    error = False
    try:
        period = parse_period(text, tz=tz) if text else None
    except ValueError:
        period, error = None, True
    if period is None:
        period = period_containing(utcnow(), Kind.QUARTER, tz=tz)
    sort = request.args.get("sort", "score")
    if sort not in SORTS:
        sort = "score"
    rows = presentation.sort(stored_ratings(db.session, period, group=GroupKind.OVERALL), sort)
    quarters = last_quarters(period)
    trend = overall_by_period(db.session, quarters)
    return render_template(
        "ratings/index.html",
        period=period,
        period_text=text if error else period.label,
        error=error,
        sort=sort,
        rows=rows,
        quarters=quarters,
        trend=trend,
        score=_score,
        share=_share,
    )
