"""The writers: CSV for French Excel, XLSX read back, formulas neutralised, safe names."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask

from grc.exports.writers import (
    Column,
    Kind,
    csv_chunks,
    neutralise,
    safe_filename,
    write_xlsx,
)
from tests.grc.exports.xlsx import read_sheet

PARIS = ZoneInfo("Europe/Paris")
COLUMNS = [
    Column("reference", "Référence"),
    Column("created", "Créée le", Kind.MOMENT),
    Column("day", "Jour", Kind.DAY),
    Column("count", "Nombre", Kind.INTEGER),
    Column("share", "Part", Kind.DECIMAL),
    Column("late", "En retard", Kind.YES_NO),
    Column("text", "Description"),
]
ROWS = [
    (
        "R-2026-000001",
        datetime(2026, 7, 1, 12, 5, tzinfo=UTC),
        date(2026, 7, 1),
        3,
        0.25,
        True,
        '=HYPERLINK("http://evil")',
    ),
    ("R-2026-000002", datetime(2026, 12, 31, 23, 30, tzinfo=UTC), None, -2, None, False, "-1+1"),
    ("R-2026-000003", None, None, None, 1.5, None, "@SUM(A1) et « guillemets » ; point-virgule"),
]


def test_neutralise_prefixes_what_a_spreadsheet_would_run() -> None:
    for text in ("=1+1", "+33 6", "-2", "@cmd", "\tx", "\rx"):
        assert neutralise(text) == "'" + text
    assert neutralise("Fuite d'eau") == "Fuite d'eau"


def test_csv_is_for_french_excel(app_ctx: Flask) -> None:
    text = "".join(csv_chunks(COLUMNS, iter(ROWS), PARIS))
    assert text.startswith("\ufeffRéférence;Créée le;Jour;")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert rows[0] == [str(c.header) for c in COLUMNS]
    # July: UTC+2; 31 December 23:30 UTC is already 1 January in Paris.
    assert rows[1] == [
        "R-2026-000001",
        "01/07/2026 14:05",
        "01/07/2026",
        "3",
        "0,25",
        "oui",
        '\'=HYPERLINK("http://evil")',
    ]
    assert rows[2][1] == "01/01/2027 00:30"
    assert rows[2][3] == "-2"  # a number stays a number
    assert rows[2][5] == "non"
    assert rows[2][6] == "'-1+1"
    assert rows[3][1:6] == ["", "", "", "1,5", ""]
    assert rows[3][6] == "'@SUM(A1) et « guillemets » ; point-virgule"


def test_csv_comes_in_chunks(app_ctx: Flask) -> None:
    many = [("R", None, None, i, None, None, "x") for i in range(1201)]
    chunks = list(csv_chunks(COLUMNS, iter(many), PARIS))
    assert len(chunks) == 1 + 3  # header, 500, 500, 201
    assert sum(chunk.count("\r\n") for chunk in chunks) == 1202


def test_xlsx_read_back(app_ctx: Flask, tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    write_xlsx(path, COLUMNS, iter(ROWS), PARIS, sheet="Demandes: [test]", tmpdir=tmp_path)
    rows, quoted = read_sheet(path.read_bytes())
    assert rows[0] == [str(c.header) for c in COLUMNS]
    first = rows[1]
    assert first[0] == "R-2026-000001"
    # Excel's serial date of 1 July 2026 14:05 (Paris) and of the day.
    assert (
        float(first[1]) == round(46204 + (14 * 60 + 5) / 1440, 10)
        or abs(float(first[1]) - (46204 + (14 * 60 + 5) / 1440)) < 1e-6
    )
    assert float(first[2]) == 46204
    assert first[3:6] == ["3", "0.25", "oui"]
    # Formula-like texts are strings (never formulas), with the quote prefix.
    assert first[6] == '=HYPERLINK("http://evil")'
    assert {"G2", "G3", "G4"} <= quoted
    assert "A2" not in quoted
    assert rows[2][3] == "-2"
    assert b"<f>" not in path.read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name != "out.xlsx"]  # no temporary left


def test_decimals_keep_their_digits_without_exponent(app_ctx: Flask) -> None:
    columns = [Column("hours", "Heures", Kind.DECIMAL)]
    rows = [(12345.6,), (1234.5,), (0.8333,), (66.67,), (210,), (0.0,)]
    text = "".join(csv_chunks(columns, iter(rows), PARIS)).removeprefix("\ufeff")
    cells = [row[0] for row in csv.reader(io.StringIO(text), delimiter=";")][1:]
    assert cells == ["12345,6", "1234,5", "0,8333", "66,67", "210", "0"]


def test_a_word_in_a_column_of_figures_or_dates_is_text(app_ctx: Flask, tmp_path: Path) -> None:
    """A table's total row says "Total" in its first column, whatever that column's kind."""
    columns = [Column("day", "Jour", Kind.DAY), Column("count", "Nombre", Kind.INTEGER)]
    rows = [(date(2026, 3, 9), 5), ("Total", 5), (None, "n/a")]
    path = tmp_path / "total.xlsx"
    write_xlsx(path, columns, iter(rows), PARIS, sheet="Appels", tmpdir=tmp_path)
    read, _quoted = read_sheet(path.read_bytes())
    assert read[1:] == [["46090", "5"], ["Total", "5"], ["", "n/a"]]
    text = "".join(csv_chunks(columns, iter(rows), PARIS)).removeprefix("\ufeff")
    assert text.split("\r\n")[1:4] == ["09/03/2026;5", "Total;5", ";n/a"]


def test_safe_filename() -> None:
    moment = datetime(2026, 12, 6, 13, 5, tzinfo=UTC)
    assert safe_filename("Réclamations", moment, PARIS, "csv") == "reclamations-2026-12-06-1405.csv"
    assert safe_filename('../../etc/"x" ; rm', moment, PARIS, "xlsx").startswith("etc-x-rm-")
    assert safe_filename("", moment, PARIS, "csv").startswith("export-")
