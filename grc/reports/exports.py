"""Every report as an export, ``/reports/<name>/export.csv|xlsx``: the filters of its page
(the same query arguments, refused on the same fields), its table under the words of its
page, figures as numbers (shares in per cent) and, where the report has one, its total as a
last row labelled "Total"."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from grc.auth import Permission
from grc.exports.registry import Args, Export, register_table
from grc.exports.writers import Column, Kind, Row
from grc.people.models import User
from grc.reports import reports
from grc.reports.filters import ReportFilters, load
from grc.reports.presentation import (
    CHANNEL_WORDS,
    COLUMN_WORDS,
    GROUPING_WORDS,
    PAGES,
    PERCENT_COLUMNS,
    column_word,
)
from grc.web import current_language

INTEGER_COLUMNS = {
    "claims",
    "further_contacts",
    "contacts",
    "responses_measured",
    "responses_on_time",
    "resolutions_measured",
    "resolutions_on_time",
    *reports.AGE_BUCKETS,
    "open",
    "overdue",
    "received",
    "answered",
    "abandoned",
    "resolved_at_first_contact",
    "answers",
    "scores",
    "not_done",
}
DECIMAL_COLUMNS = {
    "response_median_hours",
    "response_p90_hours",
    "resolution_median_hours",
    "resolution_p90_hours",
    "hours_late",
    "average_handling_seconds",
    "mean_score",
}
# The codes the pages leave out (a spreadsheet keeps them, to match rows with other tables).
CODE_WORDS: dict[str, Any] = {
    "code": _l("Code"),
    "category_code": _l("Category code"),
    "unit_code": _l("Unit code"),
}
# What the rows of a report without a choice of grouping are per.
FIXED_GROUPING = {"calls-by-agent": "agent", "ratings": "contractor"}


def _kind(column: str) -> Kind:
    if column == "bucket":
        return Kind.DAY
    if column == "resolution_due":
        return Kind.MOMENT
    if column in INTEGER_COLUMNS:
        return Kind.INTEGER
    if column in DECIMAL_COLUMNS or column in PERCENT_COLUMNS or column.startswith("score_"):
        return Kind.DECIMAL
    return Kind.TEXT


def _grouping(name: str, filters: ReportFilters) -> str | None:
    if name in reports.GROUPINGS:
        return reports.grouping(name, filters)
    return FIXED_GROUPING.get(name)


def _header(name: str, column: str, filters: ReportFilters) -> str:
    if column == "label":
        grouping = _grouping(name, filters)
        return str(GROUPING_WORDS[grouping] if grouping else COLUMN_WORDS["label"])
    if column in CODE_WORDS:
        return str(CODE_WORDS[column])
    word = column_word(column)
    return f"{word} (%)" if column in PERCENT_COLUMNS else word


def _column(name: str, column: str, filters: ReportFilters) -> Column:
    kind = _kind(column)
    wide = column in ("label", "category", "unit")  # names, not codes or figures
    width = 30 if wide else 17 if kind == Kind.MOMENT else 14
    return Column(column, _header(name, column, filters), kind, width)


def _converters(columns: tuple[str, ...], channel_labels: bool) -> list[Callable[[Any], Any]]:
    """How each value of a report's row becomes the cell its column's kind writes."""

    def keep(value: Any) -> Any:
        return None if value == "" else value

    def day(value: Any) -> Any:
        return date.fromisoformat(value) if value else None

    def moment(value: Any) -> Any:
        return datetime.fromisoformat(value) if value else None

    def per_cent(value: Any) -> Any:
        return None if value is None or value == "" else round(value * 100, 2)

    def channel(value: Any) -> Any:
        return str(CHANNEL_WORDS[value]) if value in CHANNEL_WORDS else keep(value)

    found: list[Callable[[Any], Any]] = []
    for column in columns:
        if column == "bucket":
            found.append(day)
        elif column == "resolution_due":
            found.append(moment)
        elif column in PERCENT_COLUMNS:
            found.append(per_cent)
        elif column == "label" and channel_labels:
            found.append(channel)
        else:
            found.append(keep)
    return found


def table_export(name: str, table: reports.ReportTable, filters: ReportFilters) -> Export:
    """A report's table as the writers take it: its columns in words, with their kinds."""
    grouping = _grouping(name, filters)
    # An agent's code is the id of their account: nothing a reader looks up.
    kept = [i for i, c in enumerate(table.columns) if not (c == "code" and grouping == "agent")]
    names = tuple(table.columns[i] for i in kept)
    columns = [_column(name, column, filters) for column in names]
    convert = _converters(names, grouping == "channel")

    def cells(row: Row) -> list[Any]:
        return [f(row[i]) for f, i in zip(convert, kept, strict=True)]

    def rows() -> Iterator[Row]:
        for row in table.rows:
            yield tuple(cells(row))
        if table.total is not None and PAGES[name].total_row:
            # The total's first cells are blank (no period, no group): the word goes first.
            yield (_("Total"), *cells(table.total)[1:])

    return Export(columns, rows())


def _parse(name: str) -> Callable[[Session, User, Args], ReportFilters]:
    def parse(session: Session, user: User, args: Args) -> ReportFilters:
        filters = load(session, args)
        # Refused here, as the page refuses it, rather than half-way through the file.
        _grouping(name, filters)
        return filters

    return parse


def _read(name: str) -> Callable[[Session, User, ReportFilters, datetime], Export]:
    def read(session: Session, user: User, filters: ReportFilters, now: datetime) -> Export:
        if name == "overdue":
            # A file is the whole list, not the page's first 500.
            table = reports.overdue(session, filters, now, current_language(), limit=None)
        else:
            table = reports.run(name, session, filters, now, current_language())
        return table_export(name, table, filters)

    return read


def register_report_exports() -> None:
    """Registers every report with the exports (again on each application made: the same)."""
    for name in reports.REPORTS:
        register_table(name, PAGES[name].title, Permission.REPORTS_READ, _parse(name), _read(name))
