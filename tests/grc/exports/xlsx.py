"""Reads an XLSX file the application wrote back with the standard library (no spreadsheet
library): its first sheet's cells as text (inline and shared strings, numbers as written),
and which cells carry the quote prefix."""

from __future__ import annotations

import re
import zipfile
from io import BytesIO
from xml.etree import ElementTree

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def _column(ref: str) -> int:
    letters = re.match(r"[A-Z]+", ref)
    assert letters
    number = 0
    for letter in letters.group(0):
        number = number * 26 + ord(letter) - 64
    return number - 1


def read_sheet(data: bytes) -> tuple[list[list[str]], set[str]]:
    """The rows of the first sheet (cells as text, "" when empty) and the references of the
    cells styled with Excel's quote prefix."""
    with zipfile.ZipFile(BytesIO(data)) as archive:
        sheet = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))  # noqa: S314
        shared: list[str] = []
        if "xl/sharedStrings.xml" in archive.namelist():
            strings = ElementTree.fromstring(archive.read("xl/sharedStrings.xml"))  # noqa: S314
            shared = ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")) for si in strings]
        styles = ElementTree.fromstring(archive.read("xl/styles.xml"))  # noqa: S314
    xfs = styles.find("m:cellXfs", NS)
    assert xfs is not None
    quoted_styles = {str(i) for i, xf in enumerate(xfs) if xf.get("quotePrefix") == "1"}
    rows: list[list[str]] = []
    quoted: set[str] = set()
    for row in sheet.iter(f"{{{NS['m']}}}row"):
        cells: list[str] = []
        for cell in row.findall("m:c", NS):
            ref = cell.get("r", "")
            index = _column(ref)
            while len(cells) < index:
                cells.append("")
            kind = cell.get("t")
            if kind == "inlineStr":
                text = "".join(t.text or "" for t in cell.iter(f"{{{NS['m']}}}t"))
            elif kind == "s":
                value = cell.find("m:v", NS)
                text = shared[int(value.text or 0)] if value is not None else ""
            else:
                value = cell.find("m:v", NS)
                text = value.text or "" if value is not None else ""
            if cell.get("s") in quoted_styles:
                quoted.add(ref)
            cells.append(text)
        rows.append(cells)
    return rows, quoted
