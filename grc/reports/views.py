"""The managers' report pages: a dashboard of the period's key figures, and one page per
report with its filters (kept in the URL), a chart and the same figures in a table. Thin
over ``grc.reports.reports``; the chart is drawn by ``static/reports.js`` from the figures
in the canvas's ``data-chart`` attribute."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import render_template, request, url_for
from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import lazy_gettext as _l

from grc.auth import Permission
from grc.claims.models import Category, IntakeChannel, TreatmentUnit
from grc.contracts.models import Contractor
from grc.db import utcnow
from grc.errors import InvalidInput, NotFound
from grc.extensions import db
from grc.housing.models import Agency, Residence, Territory
from grc.reports import reports
from grc.reports.filters import BUCKETS, ReportFilters, load
from grc.reports.presentation import (
    BUCKET_WORDS,
    CHANNEL_WORDS,
    GROUPING_WORDS,
    HIDDEN_COLUMNS,
    PAGES,
    PERCENT_COLUMNS,
    column_word,
)
from grc.web.pages import NavItem, add_to_navigation, page, page_blueprint

blp = page_blueprint("reports_page", __name__)

add_to_navigation(NavItem("reports_page.index", _l("Reports"), Permission.REPORTS_READ))


def _locale() -> str:
    return str(get_locale() or "fr")


def _cell(column: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if column in PERCENT_COLUMNS:
        return str(format_percent(value, format="#0.0 %"))
    if isinstance(value, float):
        return str(format_decimal(value, format="#,##0.0#"))
    if isinstance(value, int):
        return str(format_decimal(value, format="#,##0"))
    return str(value)


def _rows_for_display(name: str, table: reports.ReportTable) -> list[dict[str, Any]]:
    """The rows as the table shows them: group labels in words, figures formatted."""
    shown = []
    for row in table.dicts():
        if "label" in row and row.get("code") in CHANNEL_WORDS:
            row["label"] = str(CHANNEL_WORDS[row["code"]])
        if isinstance(row.get("resolution_due"), str):
            row["resolution_due"] = datetime.fromisoformat(row["resolution_due"])
        shown.append(row)
    return shown


def _chart_data(name: str, table: reports.ReportTable, filters: ReportFilters) -> str | None:
    chart = PAGES[name].chart
    if chart is None or not table.rows:
        return None
    rows = _rows_for_display(name, table)
    datasets: list[dict[str, Any]] = []
    if name == "ratings":
        quarters = [c.removeprefix("score_") for c in table.columns if c.startswith("score_")]
        labels = quarters
        for row in rows:
            datasets.append({"label": row["label"], "data": [row[f"score_{q}"] for q in quarters]})
    elif chart.split:
        labels = [b.isoformat() for b in reports.buckets(filters)]
        by_group: dict[str, dict[str, Any]] = {}
        for row in rows:
            by_group.setdefault(row[chart.split], {})[row[chart.x]] = row[chart.series[0]]
        for group, by_x in by_group.items():
            datasets.append({"label": group, "data": [by_x.get(x, 0) for x in labels]})
    else:
        labels = [str(row[chart.x]) for row in rows]
        for column in chart.series:
            series: list[Any] = [row[column] for row in rows]
            if chart.percent:
                series = [None if v is None else round(v * 100, 1) for v in series]
            datasets.append({"label": column_word(column), "data": series})
    return json.dumps(
        {
            "type": chart.kind,
            "labels": labels,
            "datasets": datasets,
            "stacked": chart.stacked,
            "percent": chart.percent,
        },
        ensure_ascii=False,
    )


def _choices() -> dict[str, list[tuple[str, str]]]:
    """The codes each filter offers, with their names."""
    locale = _locale()
    session = db.session
    categories = session.query(
        Category.code, Category.label_fr, Category.label_en, Category.parent_id
    )
    return {
        "territory": [(t.code, t.name) for t in session.query(Territory).order_by(Territory.name)],
        "agency": [(a.code, a.name) for a in session.query(Agency).order_by(Agency.name)],
        "residence": [(r.code, r.name) for r in session.query(Residence).order_by(Residence.name)],
        "category": sorted(
            (
                (
                    code,
                    (en if locale == "en" else fr)
                    if parent is None
                    else "— " + (en if locale == "en" else fr),
                )
                for code, fr, en, parent in categories
            ),
            key=lambda item: item[0],
        ),
        "channel": [(c.value, str(CHANNEL_WORDS[c.value])) for c in IntakeChannel],
        "unit": [
            (u.code, u.name) for u in session.query(TreatmentUnit).order_by(TreatmentUnit.name)
        ],
        "contractor": [
            (c.code, c.name) for c in session.query(Contractor).order_by(Contractor.name)
        ],
    }


def _filters_or_errors() -> tuple[ReportFilters | None, dict[str, list[str]]]:
    try:
        return load(db.session, request.args), {}
    except InvalidInput as exc:
        return None, _field_errors(exc)


def _field_errors(refused: InvalidInput) -> dict[str, list[str]]:
    """The messages of a refused filter, by field, as the form shows them."""
    errors = (refused.errors or {}).get("json", {})
    return {str(k): [str(m) for m in v] for k, v in errors.items()}


def _form_context(
    name: str | None, filters: ReportFilters | None, errors: dict[str, list[str]]
) -> dict[str, Any]:
    values = dict(filters.given) if filters else dict(request.args.items())
    page_ = PAGES.get(name) if name else None
    return {
        "values": values,
        "errors": errors,
        "choices": _choices(),
        "groupings": [(g, GROUPING_WORDS[g]) for g in (page_.groupings if page_ else ())],
        "buckets": [(b, BUCKET_WORDS[b]) for b in BUCKETS],
        "show_bucket": name in ("volumes", "calls"),
        "show_period": page_.period if page_ else True,
    }


def _url(endpoint: str, filters: ReportFilters | None, **values: Any) -> str:
    """A page's address with the filters chosen, to move between reports keeping them."""
    values.update(filters.query_args() if filters else {})
    return url_for(endpoint, **values)


@blp.get("/reports")
@page(Permission.REPORTS_READ)
def index() -> Any:
    filters, errors = _filters_or_errors()
    figures: list[tuple[Any, str, str]] = []
    if filters is not None:
        figures = _key_figures(filters)
    links = [
        (
            name,
            spec.title,
            spec.summary,
            _url("reports_page.report", filters, name=name),
        )
        for name, spec in PAGES.items()
    ]
    return (
        render_template(
            "reports/index.html",
            title=_l("Reports"),
            filters=filters,
            figures=figures,
            links=links,
            **_form_context(None, filters, errors),
        ),
        400 if errors else 200,
    )


def _key_figures(filters: ReportFilters) -> list[tuple[Any, str, str]]:
    """The dashboard's figures: (words, value, the report it comes from)."""
    totals = reports.dashboard_totals(db.session, filters, utcnow(), _locale())
    volumes, sla, backlog = totals["volumes"], totals["sla"], totals["backlog"]
    calls, fcr, happy = totals["calls"], totals["first-contact"], totals["satisfaction"]
    return [
        (_l("Claims received"), _cell("claims", volumes[3]), "volumes"),
        (_l("Further calls on open claims"), _cell("claims", volumes[4]), "volumes"),
        (_l("Responses on time"), _cell("rate", sla[5]), "sla"),
        (_l("Resolutions on time"), _cell("rate", sla[10]), "sla"),
        (_l("Open claims today"), _cell("claims", backlog[6]), "backlog"),
        (_l("Overdue today"), _cell("claims", backlog[7]), "overdue"),
        (_l("Answer rate"), _cell("rate", calls[4]), "calls"),
        (_l("Resolved at first contact"), _cell("rate", fcr[4]), "first-contact"),
        (_l("Mean satisfaction (1 to 5)"), _cell("mean_score", happy[4]), "satisfaction"),
    ]


@blp.get("/reports/<string(maxlength=40):name>")
@page(Permission.REPORTS_READ)
def report(name: str) -> Any:
    spec = PAGES.get(name)
    if spec is None:
        raise NotFound(f"No report {name}.")
    filters, errors = _filters_or_errors()
    table = None
    chart = None
    rows: list[dict[str, Any]] = []
    if filters is not None:
        try:
            table = reports.run(name, db.session, filters, utcnow(), _locale())
        except InvalidInput as exc:
            errors = _field_errors(exc)
        if table is not None:
            chart = _chart_data(name, table, filters)
            rows = _rows_for_display(name, table)
    columns = [c for c in table.columns if c not in HIDDEN_COLUMNS] if table else []
    total = (
        dict(zip(table.columns, table.total, strict=True))
        if table is not None and table.total is not None and spec.total_row
        else None
    )
    return (
        render_template(
            "reports/report.html",
            name=name,
            spec=spec,
            title=spec.title,
            table=table,
            columns=columns,
            rows=rows,
            total=total,
            chart=chart,
            column_word=column_word,
            cell=_cell,
            dashboard=_url("reports_page.index", filters),
            export_args=filters.query_args() if filters else {},
            **_form_context(name, filters, errors),
        ),
        400 if errors else 200,
    )
