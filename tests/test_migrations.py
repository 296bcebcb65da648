"""The migrations are the only way the schema is built: they must match the models and go
down and up again cleanly on both databases."""

from __future__ import annotations

import os
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

    with db.engine.connect() as connection:
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
    from contractors.inbox import repeat_key
    from grc.contracts.models import InboundEmail

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
