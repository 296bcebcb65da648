"""Types are checked by mypy (``make lint``); a silenced check must name its error and say
why, on its line or in the comment just above it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("grc", "contractors", "notifications", "workers")
IGNORE = re.compile(r"#\s*type:\s*ignore\b(?P<codes>\[[^\]]*\])?(?P<after>.*)$")


def unexplained_ignores(text: str) -> list[int]:
    """Line numbers of the ``type: ignore`` comments of ``text`` without an error code or
    without a reason."""
    lines = text.splitlines()
    found = []
    for number, line in enumerate(lines, start=1):
        match = IGNORE.search(line)
        if match is None:
            continue
        reason_after = match["after"].strip().lstrip("#").strip()
        above = lines[number - 2].strip() if number > 1 else ""
        reason_above = above.startswith("#") and IGNORE.search(above) is None
        if not match["codes"] or not (reason_after or reason_above):
            found.append(number)
    return found


def test_every_type_ignore_names_its_error_and_says_why() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in CHECKED
        for path in sorted((ROOT / package).rglob("*.py"))
        for number in unexplained_ignores(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_an_ignore_without_its_error_or_its_reason_is_found() -> None:
    text = "\n".join(
        [
            "a: int = 'x'  # type: ignore[assignment]",
            "b: int = 'x'  # type: ignore",
            "c: int = 'x'  # type: ignore  # no code named",
            "d: int = 'x'  # type: ignore[assignment]  # the form sends text",
            "# The form sends text.",
            "e: int = 'x'  # type: ignore[assignment]",
        ]
    )
    assert unexplained_ignores(text) == [1, 2, 3]
