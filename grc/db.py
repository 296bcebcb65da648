"""Column types and helpers shared by every domain package."""

from __future__ import annotations

import enum
import functools
import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
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
    """
    row = session.execute(_returning(model, statement), values).scalar_one()
    for name, value in related.items():
        set_committed_value(row, name, value)
    return row


@functools.lru_cache(maxsize=64)
def _returning(model: type, statement: sa.Insert | None) -> sa.Select:
    # Built once per model and statement: SQLAlchemy then need not build the statement and
    # compute its cache key again on every call. A table INSERT read back as the entity
    # skips the ORM's bulk-insert machinery, which is built for many rows.
    table = model.__table__  # type: ignore[attr-defined]
    insert = statement if statement is not None else sa.insert(table)
    return sa.select(model).from_statement(insert.returning(*table.c))


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
    "enum_column_type",
    "insert_returning",
    "ping_idle_connections",
    "utcnow",
]
