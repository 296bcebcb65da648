"""A table (named columns, an iterator of rows) written as CSV or XLSX, flat in memory.

CSV is for French Excel: UTF-8 with a byte-order mark (without it Excel reads the file as
Windows-1252 and mangles every accent), ``;`` between fields (French Excel's list
separator: with ``,`` everything lands in one column), decimal commas, CRLF line ends, dates
as ``31/12/2026 14:05`` in Europe/Paris, which French Excel reads as dates. XLSX is written
by XlsxWriter in ``constant_memory`` mode (each row goes to disk once written), with real
dates and numbers.

A text cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) would be
taken by a spreadsheet for a formula (a tenant's description "=HYPERLINK(…)"): in CSV it is
prefixed with ``'``; in XLSX it is written as a string (never a formula) with Excel's "quote
prefix" style, so that editing the cell later keeps it text.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import LazyString
from flask_babel import gettext as _

Row = Sequence[Any]
Progress = Callable[[int], None]

# Rows joined into one chunk of a streamed CSV: a few hundred make writes of some tens of KB.
CSV_CHUNK_ROWS = 500
# How often the writers report the rows written so far (a background job's progress).
PROGRESS_EVERY = 5000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Kind(StrEnum):
    TEXT = "text"
    MOMENT = "moment"  # a UTC datetime, shown in the landlord's time
    DAY = "day"
    INTEGER = "integer"
    DECIMAL = "decimal"
    YES_NO = "yes_no"


@dataclass(frozen=True)
class Column:
    key: str
    header: str | LazyString
    kind: Kind = Kind.TEXT
    width: int = 16  # in characters, for XLSX


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet shows it, never run as a formula (CSV)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def is_formula_like(text: str) -> bool:
    return text.startswith(_FORMULA_START)


def _local(value: datetime, tz: ZoneInfo) -> datetime:
    return value.astimezone(tz).replace(tzinfo=None)


def csv_cell(value: Any, kind: Kind, tz: ZoneInfo) -> str:
    if value is None:
        return ""
    if kind == Kind.MOMENT and isinstance(value, datetime):
        return _local(value, tz).strftime("%d/%m/%Y %H:%M")
    if kind == Kind.DAY and isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if kind == Kind.YES_NO:
        return _("yes") if value else _("no")
    if kind == Kind.INTEGER and isinstance(value, int):
        return str(value)
    if kind == Kind.DECIMAL and isinstance(value, int | float):
        return _decimal(value).replace(".", ",")
    return neutralise(str(value))


def _decimal(value: float) -> str:
    """Every digit up to the sixth decimal, never an exponent (``12345.6``, not ``1.235e+04``,
    which French Excel would read as text)."""
    if isinstance(value, int):
        return str(value)
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"


def csv_chunks(columns: Sequence[Column], rows: Iterable[Row], tz: ZoneInfo) -> Iterator[str]:
    """The CSV file in pieces of a few hundred rows: its byte-order mark and header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(str(column.header)) for column in columns])
    yield "\ufeff" + buffer.getvalue()
    kinds = [column.kind for column in columns]
    pending = 0
    buffer.seek(0)
    buffer.truncate()
    for row in rows:
        writer.writerow([csv_cell(v, k, tz) for v, k in zip(row, kinds, strict=True)])
        pending += 1
        if pending == CSV_CHUNK_ROWS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()


def counted(
    rows: Iterable[Row], progress: Progress | None, every: int = PROGRESS_EVERY
) -> Iterator[Row]:
    """``rows`` as they are, calling ``progress`` with the number passed every ``every`` rows
    and once at the end."""
    done = 0
    for row in rows:
        yield row
        done += 1
        if progress is not None and done % every == 0:
            progress(done)
    if progress is not None and done % every:
        progress(done)


def write_csv(path: Path, columns: Sequence[Column], rows: Iterable[Row], tz: ZoneInfo) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        for chunk in csv_chunks(columns, rows, tz):
            out.write(chunk)


def write_xlsx(
    path: Path,
    columns: Sequence[Column],
    rows: Iterable[Row],
    tz: ZoneInfo,
    *,
    sheet: str,
    tmpdir: Path,
) -> None:
    """The XLSX file at ``path``; XlsxWriter keeps one row in memory at a time (its
    temporary files in ``tmpdir``)."""
    from xlsxwriter import Workbook

    workbook = Workbook(
        str(path),
        {
            "constant_memory": True,
            "in_memory": False,
            "tmpdir": str(tmpdir),
            # Every text is written as text: nothing the data says becomes a formula or a link.
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    try:
        worksheet = workbook.add_worksheet(_sheet_name(sheet))
        header = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        moment = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})
        day = workbook.add_format({"num_format": "dd/mm/yyyy"})
        quoted = workbook.add_format({"quote_prefix": True})
        for index, column in enumerate(columns):
            worksheet.set_column(index, index, column.width)
            worksheet.write_string(0, index, str(column.header), header)
        worksheet.freeze_panes(1, 0)
        cells = [
            _xlsx_cell(worksheet, column.kind, tz, moment=moment, day=day, quoted=quoted)
            for column in columns
        ]
        number = 0
        for number, row in enumerate(rows, start=1):
            for index, (write, value) in enumerate(zip(cells, row, strict=True)):
                if value is not None:
                    write(number, index, value)
        if number:
            worksheet.autofilter(0, 0, number, len(columns) - 1)
    finally:
        workbook.close()


XlsxCell = Callable[[int, int, Any], object]


def _xlsx_cell(
    worksheet: Any, kind: Kind, tz: ZoneInfo, *, moment: Any, day: Any, quoted: Any
) -> XlsxCell:
    """How a column's cells are written, chosen once per column rather than for each of its
    million cells (the kind's tests and formats are looked up here). A cell of another type
    than its column's (the word "Total" on a table's last row) is written as text, as in
    CSV."""

    def text(row: int, col: int, value: Any) -> object:
        text = str(value)
        if is_formula_like(text):
            return worksheet.write_string(row, col, text, quoted)
        return worksheet.write_string(row, col, text)

    if kind == Kind.MOMENT:
        return lambda row, col, value: (
            worksheet.write_datetime(row, col, _local(value, tz), moment)
            if isinstance(value, datetime)
            else text(row, col, value)
        )
    if kind == Kind.DAY:
        return lambda row, col, value: (
            worksheet.write_datetime(row, col, value, day)
            if isinstance(value, date)
            else text(row, col, value)
        )
    if kind in (Kind.INTEGER, Kind.DECIMAL):
        return lambda row, col, value: (
            worksheet.write_number(row, col, value)
            if isinstance(value, int | float)
            else text(row, col, value)
        )
    if kind == Kind.YES_NO:
        yes, no = _("yes"), _("no")
        return lambda row, col, value: worksheet.write_string(row, col, yes if value else no)
    return text


def _sheet_name(name: str) -> str:
    # Excel refuses these characters and names over 31 characters.
    return re.sub(r"[\[\]:*?/\\]", " ", name)[:31] or "Export"


def safe_filename(stem: str, moment: datetime, tz: ZoneInfo, extension: str) -> str:
    """A download name any system accepts: plain letters, digits and dashes, the day and
    time of the export (``reclamations-2026-12-06-1405.csv``)."""
    folded = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", folded).strip("-").lower()[:60] or "export"
    return f"{slug}-{_local(moment, tz):%Y-%m-%d-%H%M}.{extension}"
