"""Every report as CSV and XLSX: the figures of its table under the words of its page, the
total last, the page's filters (refused on their field), for managers only; and the links on
each report page."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from grc.extensions import db
from grc.reports import reports
from grc.reports.filters import load
from grc.reports.presentation import PERCENT_COLUMNS
from tests.grc.exports.xlsx import read_sheet
from tests.grc.reports.dataset import NOW, build
from tests.pages import sign_in_as

WEEK = "from=2026-03-09&to=2026-03-15"
PARIS = ZoneInfo("Europe/Paris")
CHANNELS = {"phone": "Téléphone", "web": "Web", "email": "E-mail"}
EXCEL_EPOCH = datetime(1899, 12, 30)  # noqa: DTZ001 - Excel's serial dates are naive


def _csv(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def _table(name: str, query: str) -> reports.ReportTable:
    """The report's table, less what its export leaves out: an agent's code (an account id)."""
    filters = load(db.session, dict(parse_qsl(query)))
    table = reports.run(name, db.session, filters, NOW, "fr")
    if name == "calls-by-agent" or filters.by == "agent":
        assert table.columns[0] == "code"
        table.columns = table.columns[1:]
        table.rows = [row[1:] for row in table.rows]
        table.total = None if table.total is None else table.total[1:]
    return table


def _cell_matches(column: str, value: Any, cell: str, *, xlsx: bool) -> bool:
    """Whether a cell of the file says the report's ``value`` (CSV: French text; XLSX:
    numbers and Excel serial dates as written)."""
    if value is None or value == "":
        return cell == ""
    if column in ("bucket", "resolution_due"):
        moment = (
            datetime.combine(date.fromisoformat(value), datetime.min.time())
            if column == "bucket"
            else datetime.fromisoformat(value).astimezone(PARIS).replace(tzinfo=None)
        )
        if xlsx:
            return float(cell) == pytest.approx((moment - EXCEL_EPOCH).total_seconds() / 86400)
        shown = "%d/%m/%Y" if column == "bucket" else "%d/%m/%Y %H:%M"
        return cell == moment.strftime(shown)
    if isinstance(value, int | float):
        expected = value * 100 if column in PERCENT_COLUMNS else value
        return float(cell.replace(",", ".")) == pytest.approx(expected, abs=0.005)
    if column == "label" and value in CHANNELS:
        return cell == CHANNELS[value]
    return cell == value


def _assert_same_figures(
    name: str, rows: list[list[str]], table: reports.ReportTable, *, xlsx: bool = False
) -> None:
    header, *body = rows
    assert len(header) == len(table.columns)
    # A sheet leaves out the empty cells that end a row.
    body = [cells + [""] * (len(header) - len(cells)) for cells in body]
    # Words a person reads, never the report's keys.
    assert not set(header) & set(table.columns)
    with_total = table.total is not None and name != "overdue"
    assert len(body) == len(table.rows) + (1 if with_total else 0)
    for row, cells in zip(table.rows, body, strict=False):
        for column, value, cell in zip(table.columns, row, cells, strict=True):
            assert _cell_matches(column, value, cell, xlsx=xlsx), (column, value, cell)
    if with_total:
        assert table.total is not None
        assert body[-1][0] == "Total"
        for column, value, cell in zip(
            table.columns[1:], table.total[1:], body[-1][1:], strict=True
        ):
            assert _cell_matches(column, value, cell, xlsx=xlsx), (column, value, cell)


@pytest.mark.parametrize("name", list(reports.REPORTS))
def test_every_report_exports_its_figures_as_csv_and_xlsx(web_client, world, name):
    build(world)
    with freeze_time(NOW):
        sign_in_as(web_client, world.users["manager"])
        # A CSV is streamed: read whole before the next request.
        as_csv = web_client.get(f"/reports/{name}/export.csv?{WEEK}")
        csv_rows = _csv(as_csv.data)
        as_xlsx = web_client.get(f"/reports/{name}/export.xlsx?{WEEK}")
        table = _table(name, WEEK)
    assert table.rows, "the week has figures for every report"
    assert as_csv.status_code == 200
    assert as_csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert as_csv.headers["Content-Disposition"].endswith('-2026-03-16-1300.csv"')
    _assert_same_figures(name, csv_rows, table)
    assert as_xlsx.status_code == 200
    assert as_xlsx.headers["Content-Disposition"].endswith("-2026-03-16-1300.xlsx")
    rows, _quoted = read_sheet(as_xlsx.data)
    _assert_same_figures(name, rows, table, xlsx=True)


def test_the_export_speaks_the_pages_words(web_client, world):
    build(world)
    with freeze_time(NOW):
        sign_in_as(web_client, world.users["manager"])
        response = web_client.get(f"/reports/sla/export.csv?{WEEK}&by=channel")
        sla = _csv(response.data)
        overdue = _csv(web_client.get("/reports/overdue/export.csv").data)
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="respect-des-delais-'
    )
    header, *rows, total = sla
    assert header[:5] == [
        "Code",
        "Canal",
        "Demandes",
        "Réponses mesurées",
        "Réponses dans les délais",
    ]
    assert header[5] == "Réponse dans les délais (%)"
    assert [row[1] for row in rows] == ["E-mail", "Téléphone", "Web"]
    # 4 responses on time of the 6 measured: a per cent with a decimal comma.
    assert total[:6] == ["Total", "", "6", "6", "4", "66,67"]
    header, *rows = overdue
    assert header[0] == "Demande"
    assert header[5] == "Délai de résolution"
    # The longest overdue first; no total row (it counts claims, the rows are claims).
    assert rows[-1][0] != "Total"


def test_the_filters_apply(web_client, world):
    build(world)
    phone = f"{WEEK}&channel=phone&bucket=day"
    with freeze_time(NOW):
        sign_in_as(web_client, world.users["manager"])
        everything = _csv(web_client.get(f"/reports/volumes/export.csv?{WEEK}").data)
        by_phone = _csv(web_client.get(f"/reports/volumes/export.csv?{phone}").data)
        table = _table("volumes", phone)
    _assert_same_figures("volumes", by_phone, table)
    # Received in the week: 7 claims, 5 of them by phone.
    assert everything[-1][3] == "7"
    assert by_phone[-1][3] == "5"
    assert {row[2] for row in by_phone[1:-1]} == {"Téléphone"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("agency=LYON", "agency"),
        ("from=2026-02-30", "from"),
        ("channel=pigeon", "channel"),
        ("from=2026-03-10&to=2026-03-01", "to"),
        ("by=agent", "by"),  # volumes are not given per agent
    ],
)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_bad_filter_is_named(web_client, world, query, field, fmt):
    sign_in_as(web_client, world.users["manager"])
    response = web_client.get(f"/reports/volumes/export.{fmt}?{query}")
    assert response.status_code == 422
    assert re.search(rf"\b{field}\b", response.get_data(as_text=True))


@pytest.mark.parametrize("role", ["agent", "metz_tech"])
def test_only_who_reads_reports_exports_them(web_client, world, role):
    sign_in_as(web_client, world.users[role])
    for name in reports.REPORTS:
        assert web_client.get(f"/reports/{name}/export.csv").status_code == 403
        assert web_client.get(f"/reports/{name}/export.xlsx").status_code == 403


def test_each_report_page_links_to_its_exports_with_its_filters(web_client, world):
    build(world)
    with freeze_time(NOW):
        sign_in_as(web_client, world.users["manager"])
        page = web_client.get(f"/reports/volumes?{WEEK}&channel=phone").get_data(as_text=True)
        empty = web_client.get("/reports/volumes?from=2025-01-06&to=2025-01-12")
    query = "from=2026-03-09&amp;to=2026-03-15&amp;channel=phone&amp;bucket=week"
    assert f'<a href="/reports/volumes/export.csv?{query}">Exporter en CSV</a>' in page
    assert f'<a href="/reports/volumes/export.xlsx?{query}">Exporter en XLSX</a>' in page
    # Nothing to count: nothing to export.
    assert "export.csv" not in empty.get_data(as_text=True)


def test_the_overdue_export_is_the_whole_list_not_the_pages_first_rows(
    web_client, world, monkeypatch
):
    d = build(world)
    # A page lists at most its limit of the longest overdue: one here.
    monkeypatch.setattr(reports.overdue, "__defaults__", ("fr", 1))
    with freeze_time(NOW):
        sign_in_as(web_client, world.users["manager"])
        page = reports.overdue(db.session, load(db.session, {}), NOW)
        _header, *rows = _csv(web_client.get("/reports/overdue/export.csv").data)
    assert len(page.rows) == 1
    assert page.total[-1] == 2
    # C6 overdue since February, C5 since Monday morning: both in the file, oldest first.
    assert [row[0] for row in rows] == [d.claims["C6"].reference, d.claims["C5"].reference]
