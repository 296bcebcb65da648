"""Column types and helpers shared by every domain package."""

from __future__ import annotations

import enum
import functools
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult, Dialect, Result
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored in UTC and always come back timezone-aware.

    PostgreSQL keeps the offset itself; SQLite has no timezone type, so values are
    stored as naive UTC and re-tagged on the way out.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# A connection used in the last few seconds is alive: pinging it before every request, as
# pool_pre_ping does, would cost a round trip per request. One idle for longer may have been
# cut (a database restart, a firewall's idle timeout): it is pinged, and replaced if dead. A
# restart during a busy period fails the request that meets the dead connection (a 503); the
# pool then drops every connection opened before it.
PING_AFTER_IDLE_S = 10.0


def ping_idle_connections(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "checkin")
    def remember_idle_since(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and checks out another.
            raise sa.exc.DisconnectionError("connection lost while idle") from exc


Row = TypeVar("Row")


def insert_returning(
    session: Session,
    model: type[Row],
    values: dict[str, Any],
    related: dict[str, Any],
    *,
    statement: sa.Insert | None = None,
) -> Row:
    """Write one row with a single INSERT … RETURNING, bypassing the unit of work, and get it
    back persistent with its relationships set from objects the caller already holds
    (``related``: name → object, or list for a collection known to be empty).

    Holding them matters: found only through the session's identity map, which keeps
    objects weakly, a collected one would be lazy-loaded again, possibly after the commit
    in a transaction of its own. ``statement`` is the INSERT when some of its values are
    SQL expressions; ``values`` are then its parameters. Give the same statement object
    each time: statements are prepared once per object.

    Only what the database computes (the key, SQL expressions, defaults) comes back: see
    ``as_written`` for the rest.
    """
    # ``model`` is a mapped class (any of them, hence the plain TypeVar): it has a table.
    table = model.__table__  # type: ignore[attr-defined]
    insert = _returning(table, statement, frozenset(values))
    returned = session.execute(insert, values).one()._mapping
    return as_written(session, model, values, returned, related)


def insert_rows(
    session: Session, model: type[Row], rows: list[dict[str, Any]], related: dict[str, Any]
) -> list[Row]:
    """``insert_returning`` for several rows (the same columns given in each), in one
    statement where the database keeps RETURNING in the order of VALUES (PostgreSQL); the
    objects come back in the order of ``rows``."""
    if not rows:
        return []
    # ``model`` is a mapped class (any of them, hence the plain TypeVar): it has a table.
    table = model.__table__  # type: ignore[attr-defined]
    insert = _returning(table, None, frozenset(rows[0]))
    returned = session.execute(insert, rows).mappings().all()
    dialect = session.get_bind().dialect
    return [
        _persistent(session, _as_read(model, dialect, values, back), related)
        for values, back in zip(rows, returned, strict=True)
    ]


def among_ids(session: Session, column: Any, ids: list[int]) -> sa.ColumnElement[bool]:
    """``column`` is one of ``ids``, for a batch of hundreds of ids read just before, in a
    statement whose text does not change with them: on PostgreSQL ``= ANY`` of one array
    parameter (psycopg's query cache keeps only statements of 50 parameters or fewer, and
    from the sixth batch the statement is prepared, planned once); elsewhere the ids are
    written into the statement. Integers only."""
    if not all(type(value) is int for value in ids):
        raise TypeError("among_ids takes integer ids only")
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return cast(
            "sa.ColumnElement[bool]",
            column == sa.any_(sa.bindparam("ids", ids, type_=postgresql.ARRAY(sa.Integer))),
        )
    return cast(
        "sa.ColumnElement[bool]",
        column.in_(sa.bindparam("ids", ids, expanding=True, literal_execute=True)),
    )


def insert_many(
    session: Session,
    table: sa.Table,
    rows: list[dict[str, Any]],
    *,
    skip_conflicts_on: tuple[str, ...] | None = None,
    returning: tuple[str, ...] = (),
) -> list[tuple[Any, ...]]:
    """Many rows (the same columns given in each) in one statement, a watch's batch of
    messages, alerts or timeline lines; ``skip_conflicts_on``: the unique columns whose
    repeated values insert nothing (ON CONFLICT DO NOTHING); the ``returning`` columns of
    the rows written.

    On PostgreSQL the rows go as one JSON parameter (``INSERT … SELECT FROM
    json_populate_recordset(…)``), encoded in C by ``json``: a VALUES list takes one
    parameter per value, which psycopg converts again on every call (its query cache keeps
    only statements of 50 parameters at most), and one array per column is converted value
    by value in Python; either cost more than the database's own work. Values are plain
    (strings, numbers, booleans, aware datetimes, JSON-ready dicts). Elsewhere (SQLite):
    SQLAlchemy's executemany."""
    if not rows:
        return []
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        statement = _json_insert(table, tuple(rows[0]), skip_conflicts_on, returning)
        parameters: Any = {"rows": json.dumps(rows, default=_json_value)}
    else:
        statement = _values_insert(dialect.name, table, skip_conflicts_on, returning)
        parameters = rows
    with session.no_autoflush:
        result = session.execute(statement, parameters)
        return [tuple(row) for row in result] if returning else []


@functools.lru_cache(maxsize=32)
def _json_insert(
    table: sa.Table,
    columns: tuple[str, ...],
    skip_conflicts_on: tuple[str, ...] | None,
    returning: tuple[str, ...],
) -> sa.Insert:
    from sqlalchemy.dialects import postgresql

    # The rows as one JSON array of objects, read as rows of the table's own type: each
    # value is parsed as its column's type, with no cast to write here.
    records = sa.func.json_populate_recordset(
        sa.literal_column(f"NULL::{table.fullname}"),
        sa.cast(sa.bindparam("rows", type_=sa.String()), postgresql.JSON),
    ).table_valued(*columns)
    insert = postgresql.insert(table).from_select(
        list(columns), sa.select(*(records.c[name] for name in columns))
    )
    if skip_conflicts_on is not None:
        insert = insert.on_conflict_do_nothing(index_elements=list(skip_conflicts_on))
    return insert.returning(*(table.c[name] for name in returning)) if returning else insert


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # as UTCDateTime refuses it
            raise ValueError("naive datetime given to a UTC column")
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not written by insert_many")


@functools.lru_cache(maxsize=32)
def _values_insert(
    dialect: str,
    table: sa.Table,
    skip_conflicts_on: tuple[str, ...] | None,
    returning: tuple[str, ...],
) -> sa.Insert:
    from sqlalchemy.dialects import postgresql, sqlite

    insert: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    if skip_conflicts_on is not None:
        insert = insert.on_conflict_do_nothing(index_elements=list(skip_conflicts_on))
    return insert.returning(*(table.c[name] for name in returning)) if returning else insert


def as_written(
    session: Session,
    model: type[Row],
    values: dict[str, Any],
    returned: Any,
    related: dict[str, Any] | None = None,
) -> Row:
    """The row just inserted with ``values`` (the database gave back ``returned``: its key,
    computed columns), persistent in ``session``, holding what a SELECT would have loaded,
    without one: each value goes through its column type both ways (a datetime comes back in
    UTC, a string as its enum member). A column in neither is expired, read when first used.
    Only for tables whose triggers do not change the row being inserted."""
    row = _as_read(model, session.get_bind().dialect, values, returned)
    return _persistent(session, row, related)


def _persistent(session: Session, row: Row, related: dict[str, Any] | None) -> Row:
    # Added before its relationships are set: the session then has nothing to cascade to.
    session.add(row)
    for name, value in (related or {}).items():
        set_committed_value(row, name, value)
    return row


@functools.lru_cache(maxsize=64)
def _returning(table: sa.Table, statement: sa.Insert | None, given: frozenset[str]) -> sa.Insert:
    # Built once per statement and set of given columns: SQLAlchemy then need not build the
    # statement and compute its cache key again on every call.
    insert = statement if statement is not None else sa.insert(table)
    computed = [column for column in table.c if column.key not in given]
    return insert.returning(*computed, sort_by_parameter_order=True)


def _as_read(model: type[Row], dialect: Dialect, values: dict[str, Any], returned: Any) -> Row:
    mapper = sa.inspect(model)
    to_attribute = _attribute_keys(mapper)
    round_trip = _round_trips(mapper.local_table, dialect)
    row = mapper.class_manager.new_instance()
    loaded = row.__dict__
    for key, value in values.items():
        convert = round_trip[key]
        loaded[to_attribute[key]] = value if convert is None or value is None else convert(value)
    for key, value in returned.items():
        loaded[to_attribute[key]] = value
    # What is set becomes the instance's committed state, the rest is expired: added to the
    # session, it is persistent and clean, with nothing to flush.
    make_transient_to_detached(row)
    return row


@functools.cache
def _attribute_keys(mapper: sa.orm.Mapper[Any]) -> dict[str, str]:
    return {c.key: mapper.get_property_by_column(c).key for c in mapper.local_table.c}


@functools.cache
def _round_trips(table: sa.Table, dialect: Dialect) -> dict[str, Callable[[Any], Any] | None]:
    """Per column, what writing a value and reading it back does to it in Python (None:
    nothing): our own column types convert both ways (a datetime comes back in UTC), an
    enum column gives its member; a DBAPI-level conversion (JSON, numbers) gives back what
    it was given."""
    trips: dict[str, Callable[[Any], Any] | None] = {}
    for column in table.c:
        column_type = column.type
        if isinstance(column_type, TypeDecorator):
            trips[column.key] = functools.partial(_decorated, column_type, dialect)
        elif isinstance(column_type, sa.Enum) and column_type.enum_class is not None:
            trips[column.key] = column_type.enum_class
        else:
            trips[column.key] = None
    return trips


def _decorated(column_type: TypeDecorator[Any], dialect: Dialect, value: Any) -> Any:
    return column_type.process_result_value(column_type.process_bind_param(value, dialect), dialect)


def enum_column_type(enum_class: type[enum.Enum], name: str) -> sa.Enum:
    """A portable enum: a VARCHAR with a CHECK constraint listing the allowed values."""
    return sa.Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_class),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


__all__ = [
    "StrEnum",
    "UTCDateTime",
    "among_ids",
    "as_written",
    "enum_column_type",
    "insert_many",
    "insert_returning",
    "insert_rows",
    "one_at_a_time",
    "ping_idle_connections",
    "rows_changed",
    "utcnow",
]


def rows_changed(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE run through ``Session.execute`` changed: its result is a
    CursorResult, which the Session's annotations do not say."""
    return cast("CursorResult[Any]", result).rowcount


def one_at_a_time(session: Session, task: str) -> None:
    """Wait until no other transaction holds ``task``, then hold it until this transaction
    ends: for work that replaces a set of rows (delete, then insert under a unique key),
    which two transactions at once would both try to write. PostgreSQL: a transaction-level
    advisory lock named by the task; SQLite writes one transaction at a time anyway."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(task))))


def epoch_seconds(session: Session) -> Callable[[Any], sa.ColumnElement[float]]:
    """Seconds since 1970 of a timestamp column, as the database computes them: plain
    numbers travel and compare far faster than datetimes built one by one."""
    if session.get_bind().dialect.name == "postgresql":
        return lambda column: sa.cast(sa.extract("epoch", column), sa.Float)
    # SQLite keeps naive UTC text; its Julian day is in days (1970-01-01 is 2440587.5).
    return lambda column: (sa.func.julianday(column) - 2440587.5) * 86400.0


def settings_for_large_counts(session: Session) -> None:
    """For the rest of the transaction, PostgreSQL settings fit for a statement counting a
    few hundred thousand rows (a quarter's ratings, a year's report): compiling it to
    machine code (JIT) takes longer than running it, and its sorts and hashes spill to disk
    within the default 4 MB of memory."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SET LOCAL jit = off"))
        session.execute(sa.text("SET LOCAL work_mem = '64MB'"))
