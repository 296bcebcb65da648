"""What can be exported: the claim list, and each report its package registers.

An ``ExportSource`` reads a request's filters from query arguments and gives a table:
columns and an iterator of rows. ``/reports/<name>/export.csv|xlsx`` (``grc.exports.views``)
serves any registered source; the claim list is registered by ``grc.exports.claim_list``;
a report whose function returns a table (named ``columns`` and ``rows``) is registered with
``register_table``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from flask_babel import LazyString
from sqlalchemy.orm import Session

from grc.auth import Permission
from grc.errors import NotFound
from grc.exports.writers import Column, Kind, Row
from grc.people.models import User

Args = Mapping[str, str]


@dataclass(frozen=True)
class Export:
    columns: Sequence[Column]
    rows: Iterable[Row]


@dataclass(frozen=True)
class Request:
    """A request's filters as the source reads them (``parsed``) and as the query arguments
    that name them (``args``: kept with a background job, digested into its unique key)."""

    parsed: Any
    args: dict[str, str]


@dataclass(frozen=True)
class ExportSource:
    name: str
    title: str | LazyString  # the sheet's name and the download's name
    permission: Permission
    # The query arguments to a request (InvalidInput naming the argument when one is wrong).
    parse: Callable[[Session, User, Args], Request]
    # The table, its rows read by one streamed statement (an export small enough to stream).
    read: Callable[[Session, User, Any, datetime], Export]
    # How many rows there are (None: few enough to stream always, as a report's table).
    count: Callable[[Session, User, Any, datetime], int] | None = None
    # The table, its rows read in batches of ``size``, each by a statement of its own, so
    # that a background job can commit its progress between two; None: as ``read``.
    read_in_batches: Callable[[Session, User, Any, datetime, int], Export] | None = None


_SOURCES: dict[str, ExportSource] = {}


def register(source: ExportSource) -> ExportSource:
    _SOURCES[source.name] = source
    return source


def get(name: str) -> ExportSource:
    source = _SOURCES.get(name)
    if source is None:
        raise NotFound(f"No export named {name}.")
    return source


def names() -> list[str]:
    return sorted(_SOURCES)


class Table(Protocol):
    """What a report function returns: named columns and rows."""

    @property
    def columns(self) -> Sequence[Any]: ...

    @property
    def rows(self) -> Iterable[Sequence[Any]]: ...


def as_column(column: Any) -> Column:
    """A report table's column as the writers take it: a ``Column`` as it is; an object
    with ``key`` and ``label`` (or ``header``), and optionally ``kind``; else its text."""
    if isinstance(column, Column):
        return column
    key = getattr(column, "key", None) or getattr(column, "name", None) or str(column)
    header = getattr(column, "label", None) or getattr(column, "header", None) or str(column)
    kind = getattr(column, "kind", Kind.TEXT)
    return Column(str(key), header, Kind(kind) if kind in set(Kind) else Kind.TEXT)


def register_table(
    name: str,
    title: str | LazyString,
    permission: Permission,
    parse: Callable[[Session, User, Args], Any],
    report: Callable[[Session, User, Any, datetime], Table],
) -> ExportSource:
    """A report that computes a whole table (a few hundred rows) as an export: ``parse``
    reads the query arguments into the report's filters (raising InvalidInput naming the
    argument), ``report`` computes the table."""

    def parse_args(session: Session, user: User, args: Args) -> Request:
        return Request(parse(session, user, args), dict(sorted(args.items())))

    def read(session: Session, user: User, parsed: Any, now: datetime) -> Export:
        table = report(session, user, parsed, now)
        return Export([as_column(c) for c in table.columns], table.rows)

    return register(ExportSource(name, title, permission, parse_args, read))
