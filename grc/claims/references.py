"""Claim references R-YYYY-NNNNNN: unique, numbered per year, gaps allowed.

PostgreSQL: one SEQUENCE per year. ``nextval`` never blocks and is not rolled back, so
concurrent intakes never wait on each other (a failed intake only leaves a gap). The year's
sequence is created on first use, outside the request's transaction, on a connection of its
own (never one from the pool: requests holding pool connections could otherwise starve it).
The reference is an SQL expression computed by the claim's own INSERT: no round trip of its
own.

SQLite serialises writers anyway: a counter row per year, bumped inside the intake's
transaction.
"""

from __future__ import annotations

import functools
import re
import threading
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from grc.claims.models import Claim, ClaimReferenceCounter

_counter = cast("sa.Table", ClaimReferenceCounter.__table__)  # a mapped class's Table
_known_sequences: set[tuple[str, int]] = set()
_sequence_lock = threading.Lock()


def sequence_name(year: int) -> str:
    if not 2000 <= year <= 2999:
        raise ValueError(f"implausible claim year {year}")
    return f"claim_reference_{year}"


# The one definition of a reference: R-, the year, -, the number on six digits at least
# (more once a year passes a million claims, never cut).
_PREFIX = "R-{year}-"
_MIN_DIGITS = 6
REFERENCE_PATTERN = r"R-(?P<year>\d{4})-(?P<number>\d{6,12})"
# A reference quoted in a text (an e-mail's subject): a whole word.
REFERENCE_IN_TEXT = re.compile(rf"\b{REFERENCE_PATTERN}\b", re.IGNORECASE)
# A reference typed in a search box: dashes optional, leading zeros optional.
_TYPED_REFERENCE = re.compile(r"^\s*R-?(\d{4})-?(\d{1,12})\s*$", re.IGNORECASE)


def format_reference(year: int, number: int) -> str:
    return _PREFIX.format(year=year) + f"{number:0{_MIN_DIGITS}d}"


def references_in_text(text: str) -> list[str]:
    """The references quoted in ``text``, in order, as stored (upper case)."""
    return [
        format_reference(int(found["year"]), int(found["number"]))
        for found in REFERENCE_IN_TEXT.finditer(text)
    ]


def typed_reference(query: str) -> str | None:
    """The reference a person typed (``r2026123``, ``R-2026-000123``…), as stored, or None
    when ``query`` is not one."""
    found = _TYPED_REFERENCE.match(query)
    return format_reference(int(found[1]), int(found[2])) if found else None


def claim_insert(session: Session, year: int) -> tuple[sa.Insert | None, dict[str, str]]:
    """How a claim of ``year`` gets its reference: on PostgreSQL, an INSERT statement that
    computes it (``nextval`` runs inside that INSERT); on SQLite, the reference as a value
    for a plain INSERT."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        _ensure_sequence(bind.engine, year)
        return _claim_insert_statement(year), {}
    return None, {"reference": _next_counted_reference(session, year)}


def _next_counted_reference(session: Session, year: int) -> str:
    from sqlalchemy.dialects.sqlite import insert

    stmt = (
        insert(_counter)
        .values(year=year, last_value=1)
        .on_conflict_do_update(
            index_elements=[_counter.c.year], set_={"last_value": _counter.c.last_value + 1}
        )
        .returning(_counter.c.last_value)
    )
    return format_reference(year, session.execute(stmt).scalar_one())


@functools.cache
def _claim_insert_statement(year: int) -> sa.Insert:
    # Built once per year: it then hits SQLAlchemy's compiled cache.
    return sa.insert(cast("sa.Table", Claim.__table__)).values(
        reference=_reference_expression(year)
    )


def _reference_expression(year: int) -> sa.ScalarSelect[str]:
    # The sequence is named as a regclass literal (sequence_name only yields safe names), so
    # PostgreSQL resolves it when planning, not on every call.
    number = sa.select(
        sa.literal_column(f"nextval('{sequence_name(year)}'::regclass)").label("n")
    ).subquery()
    digits = sa.cast(number.c.n, sa.Text)
    # format_reference in SQL: six digits at least, never cut beyond a million.
    padded = sa.func.lpad(digits, sa.func.greatest(_MIN_DIGITS, sa.func.length(digits)), "0")
    return sa.select(sa.literal(_PREFIX.format(year=year)) + padded).scalar_subquery()


def _ensure_sequence(engine: sa.Engine, year: int) -> None:
    key = (str(engine.url), year)
    if key in _known_sequences:
        return
    with _sequence_lock:
        if key in _known_sequences:
            return
        ddl_engine = sa.create_engine(engine.url, poolclass=NullPool)
        with ddl_engine.connect() as connection:
            # IF NOT EXISTS can still race on the catalogue's unique index: retry once.
            for attempt in (1, 2):
                try:
                    connection.execute(
                        sa.text(
                            f"CREATE SEQUENCE IF NOT EXISTS {sequence_name(year)} AS bigint START 1"
                        )
                    )
                    connection.commit()
                    break
                except sa.exc.IntegrityError:
                    connection.rollback()
                    if attempt == 2:
                        raise
        ddl_engine.dispose()
        _known_sequences.add(key)
