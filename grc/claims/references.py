"""Claim references R-YYYY-NNNNNN: unique, numbered per year, gaps allowed.

On PostgreSQL the number is taken in its own short transaction, so the counter row is locked
for microseconds instead of for the whole intake: concurrent intakes never wait on each
other, and a rolled-back intake only leaves a gap. SQLite serialises writers anyway, so there
the number is taken inside the intake's transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grc.claims.models import ClaimReferenceCounter

_counter = ClaimReferenceCounter.__table__


def _upsert(dialect: str, year: int) -> sa.Executable:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(_counter).values(year=year, last_value=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[_counter.c.year], set_={"last_value": _counter.c.last_value + 1}
    )
    return stmt.returning(_counter.c.last_value)


def next_reference(session: Session, year: int) -> str:
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        with bind.engine.connect() as connection:
            number = connection.execute(_upsert("postgresql", year)).scalar_one()
            connection.commit()
    else:
        number = session.execute(_upsert(bind.dialect.name, year)).scalar_one()
    return format_reference(year, number)


def format_reference(year: int, number: int) -> str:
    return f"R-{year}-{number:06d}"
