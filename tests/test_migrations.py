"""The migrations are the only way the schema is built: they must match the models and go
down and up again cleanly on both databases."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from grc import create_app
from grc.config import Settings
from grc.extensions import db
from tests.conftest import BACKENDS, _create_pg_database, _drop_pg_database, _unique_suffix

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


@pytest.fixture(params=BACKENDS)
def fresh_app(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/migrations.sqlite3"
    else:
        name = f"grc_migrations_{_unique_suffix()}"
        url = _create_pg_database(name)
    app = create_app(
        Settings.from_env({}, environment="testing", database_url=url, instance_path=str(tmp_path))
    )
    with app.app_context():
        yield app
        db.engine.dispose()
    if request.param == "postgresql":
        _drop_pg_database(name)


def _diff() -> list:
    dialect = db.engine.dialect.name

    def include(obj, name, type_, reflected, compare_to):
        return not (
            type_ == "index" and obj.info.get("postgresql_only") and dialect != "postgresql"
        )

    with db.engine.connect() as connection, warnings.catch_warnings():
        # SQLite cannot reflect an index on an expression (lower(email)); such indexes are
        # compared on PostgreSQL only (``postgresql_only``), so the warning says nothing.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include}
        )
        return compare_metadata(context, db.metadata)


def test_models_match_head(fresh_app):
    upgrade(directory=MIGRATIONS)
    assert _diff() == []


def test_down_and_up_again(fresh_app):
    upgrade(directory=MIGRATIONS)
    downgrade(directory=MIGRATIONS, revision="base")
    tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    upgrade(directory=MIGRATIONS)
    assert "claims" in sa.inspect(db.engine).get_table_names()


def test_a_single_head(fresh_app):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config(os.path.join(MIGRATIONS, "alembic.ini"))
    config.set_main_option("script_location", MIGRATIONS)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_e_mails_processed_before_the_repeat_keys_keep_their_message_id(fresh_app):
    """Revision 0009: the first processed copy of each Message-ID holds its key, so that a
    copy arriving after the upgrade is still a duplicate."""
    from grc.inbound.models import InboundEmail
    from grc.inbound.processing import repeat_key

    upgrade(directory=MIGRATIONS, revision="0007")
    rows = [
        (1, "applied", "<a@x>"),
        (2, "duplicate", "<a@x>"),
        (3, "review", "<b@x>"),
        (4, "received", "<c@x>"),  # not processed yet: it takes its key when it is
        (5, "unreadable", "<d@x>"),
        (6, "triage", None),
    ]
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO inbound_emails (id, received_at, content_type, raw_post, status, "
                "message_id, attempts) VALUES (:id, '2026-11-30 10:00:00', 'x', :raw, :status, "
                ":message_id, 1)"
            ),
            [{"id": i, "raw": b"", "status": s, "message_id": m} for i, s, m in rows],
        )
    upgrade(directory=MIGRATIONS)
    with db.engine.connect() as connection:
        found = connection.execute(sa.text("SELECT key, email_id FROM inbound_email_keys"))
        keys = dict(list(found))
    expected = {
        repeat_key(InboundEmail(message_id=message_id), parsed=None): email_id  # type: ignore[arg-type]
        for email_id, message_id in ((1, "<a@x>"), (3, "<b@x>"))
    }
    assert keys == expected


def test_contracts_get_deadlines_per_priority_from_their_single_pair(fresh_app):
    upgrade(directory=MIGRATIONS, revision="0007")
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO contractors (id, code, name, email) "
                "VALUES (1, 'MULTI', 'Multiservices', 'ordres@multi.test')"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO contracts (id, reference, contractor_id, kind, starts_on, "
                "acknowledge_hours, complete_hours) VALUES "
                "(1, 'MS', 1, 'multiservice', '2025-01-01', 4, 72), "
                "(2, 'ASC', 1, 'elevator', '2025-01-01', 1, 3)"
            )
        )
    upgrade(directory=MIGRATIONS)
    columns = ", ".join(
        f"{p}_acknowledge_hours, {p}_complete_hours" for p in ("urgent", "high", "normal", "low")
    )
    with db.engine.connect() as connection:
        rows = connection.execute(
            sa.text(f"SELECT {columns} FROM contracts ORDER BY id")  # noqa: S608
        ).all()
        stamp = connection.execute(sa.text("SELECT stamp FROM catalogue_versions")).scalar()
    # The old pair is the normal and low deadlines; urgent and high are capped, never longer.
    assert [tuple(r) for r in rows] == [
        (1, 4, 2, 24, 4, 72, 4, 72),
        (1, 3, 1, 3, 1, 3, 1, 3),
    ]
    # The catalogue stamp still changes with the contracts (SQLite rebuilt the table).
    with db.engine.begin() as connection:
        connection.execute(sa.text("UPDATE contracts SET low_complete_hours = 96 WHERE id = 1"))
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT stamp FROM catalogue_versions")).scalar() != stamp

    downgrade(directory=MIGRATIONS, revision="0007")
    with db.engine.connect() as connection:
        pairs = connection.execute(
            sa.text("SELECT acknowledge_hours, complete_hours FROM contracts ORDER BY id")
        ).all()
    assert [tuple(p) for p in pairs] == [(4, 72), (1, 3)]


def test_existing_work_orders_get_consistent_timestamps(fresh_app):
    from datetime import UTC, datetime

    from grc.claims.models import IntakeChannel
    from grc.claims.operations import NewClaim, create_claim
    from grc.contracts.lifecycle import OrderEvent, move
    from grc.contracts.models import WorkOrder, WorkOrderStatus
    from tests.factories import build_world

    upgrade(directory=MIGRATIONS)
    world = build_world(db.session)
    orders = []
    for dwelling in ("TIL-11", "TIL-12"):
        claim = create_claim(
            db.session,
            NewClaim("PLB-FUITE", IntakeChannel.PHONE, "Fuite.", world.dwellings[dwelling].id),
            world.users["agent"],
        )
        orders.append(
            db.session.execute(sa.select(WorkOrder).filter_by(claim_id=claim.id)).scalar_one()
        )
    move(orders[0], OrderEvent.CANCEL, datetime.now(UTC))
    move(orders[1], OrderEvent.SUPERSEDE, datetime.now(UTC))
    db.session.commit()
    db.session.remove()

    # Back to before the lifecycle (a superseded order was a cancelled one), and up again:
    # the cancelled orders of that time get a cancellation time.
    downgrade(directory=MIGRATIONS, revision="0007")
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT status FROM work_orders")).scalars().all() == [
            "cancelled",
            "cancelled",
        ]
    upgrade(directory=MIGRATIONS)
    stored = db.session.execute(sa.select(WorkOrder).order_by(WorkOrder.id)).scalars().all()
    assert [o.status for o in stored] == [WorkOrderStatus.CANCELLED] * 2
    assert all(o.cancelled_at == o.created_at for o in stored)


def test_rows_in_flight_keep_their_lease_across_0018(fresh_app):
    """Revision 0018: a message being sent is held for the default lease from when it was
    taken, a received e-mail until its next attempt may start; down again, the columns the
    leases were read from before are still there."""
    from datetime import UTC, datetime, timedelta

    from grc.db import UTCDateTime

    taken = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
    upgrade(directory=MIGRATIONS, revision="0017")
    stamp = sa.bindparam("at", type_=UTCDateTime())
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO outbox_messages (id, idempotency_key, channel, purpose, recipient, "
                "locale, body_text, urgent, status, available_at, attempts, created_at, "
                "locked_at) VALUES (:id, :key, 'sms', 'acknowledgement', '+33600000000', 'fr', "
                "'x', false, :status, :at, 1, :at, :locked)"
            ).bindparams(stamp, sa.bindparam("locked", type_=UTCDateTime())),
            [
                {"id": 1, "key": "a", "status": "sending", "at": taken, "locked": taken},
                {"id": 2, "key": "b", "status": "pending", "at": taken, "locked": None},
            ],
        )
        connection.execute(
            sa.text(
                "INSERT INTO inbound_emails (id, received_at, content_type, raw_post, status, "
                "attempts, next_attempt_at) VALUES (:id, :at, 'x', :raw, :status, :attempts, "
                ":next)"
            ).bindparams(stamp, sa.bindparam("next", type_=UTCDateTime())),
            [
                {
                    "id": 1,
                    "at": taken,
                    "raw": b"",
                    "status": "received",
                    "attempts": 1,
                    "next": taken + timedelta(minutes=5),
                },
                {
                    "id": 2,
                    "at": taken,
                    "raw": b"",
                    "status": "received",
                    "attempts": 0,
                    "next": None,
                },
                {
                    "id": 3,
                    "at": taken,
                    "raw": b"",
                    "status": "applied",
                    "attempts": 1,
                    "next": None,
                },
            ],
        )
    upgrade(directory=MIGRATIONS, revision="0018")
    lease = sa.column("lease_expires_at", UTCDateTime())
    with db.engine.connect() as connection:
        outbox = connection.execute(
            sa.select(sa.column("id"), lease)
            .select_from(sa.table("outbox_messages"))
            .order_by(sa.column("id"))
        ).all()
        inbound = connection.execute(
            sa.select(sa.column("id"), lease, sa.column("handed_at"))
            .select_from(sa.table("inbound_emails"))
            .order_by(sa.column("id"))
        ).all()
    assert [tuple(row) for row in outbox] == [(1, taken + timedelta(seconds=120)), (2, None)]
    assert [tuple(row) for row in inbound] == [
        (1, taken + timedelta(minutes=5), None),
        (2, None, None),
        (3, None, None),
    ]

    downgrade(directory=MIGRATIONS, revision="0017")
    columns = {
        table: {column["name"] for column in sa.inspect(db.engine).get_columns(table)}
        for table in ("outbox_messages", "inbound_emails")
    }
    assert "lease_expires_at" not in columns["outbox_messages"] | columns["inbound_emails"]
    assert "handed_at" not in columns["inbound_emails"]
    assert {"locked_at", "handed_at"} <= columns["outbox_messages"]
    assert "next_attempt_at" in columns["inbound_emails"]
