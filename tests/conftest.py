"""Test fixtures: every database test runs on SQLite and on the local PostgreSQL.

The schema is built by the real migrations (``flask db upgrade``) once per backend and test
process, into a template; each test starts from empty tables.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from grc import create_app
from grc.config import PasswordHashing, Settings
from grc.extensions import db
from notifications.memory import MemorySender
from tests.factories import World, build_world
from tests.stubs.network_guard import network_guard  # noqa: F401 - fixture
from tests.stubs.providers import provider_stub  # noqa: F401 - fixture
from workers.senders import set_senders

PG_ADMIN_URL = os.environ.get("GRC_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
_counter = itertools.count()
BACKENDS = [b for b in os.environ.get("GRC_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
# Argon2id at its lowest cost, a hash in microseconds rather than a tenth of a second: the
# tests hash and check hundreds of passwords. tests/grc/accounts/test_passwords.py checks
# the production cost, and worker and server processes started by tests have it.
FAST_PASSWORD_HASHING = PasswordHashing(time_cost=1, memory_kib=8, parallelism=1)


def _unique_suffix() -> str:
    # A database per test process and per creation: xdist workers and parallel runs never
    # share one, and a database re-created later in the same run gets a new name.
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}_{next(_counter)}"


def _create_pg_database(name: str, template: str | None = None) -> str:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_pg_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


class MigratedTemplates:
    """Per backend, a database the migrations built once in this test process; each test
    database is a copy of it (``CREATE DATABASE … TEMPLATE`` on PostgreSQL, a copy of the
    file on SQLite).

    With ``--dist loadfile`` a process runs a file's SQLite tests, then its PostgreSQL ones,
    then the next file's: the session's database is made again at each switch, and
    running the migrations each time cost two to three seconds a file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.built: dict[str, str] = {}  # backend -> template (SQLite file or database name)

    def copy(self, backend: str, name: str) -> str:
        """The URL of a new database ``name`` with the migrated schema."""
        template = self.built.get(backend) or self._build(backend)
        if backend == "sqlite":
            path = self.directory / f"{name}.sqlite3"
            shutil.copyfile(template, path)
            return f"sqlite:///{path}"
        return _create_pg_database(name, template=template)

    def _build(self, backend: str) -> str:
        if backend == "sqlite":
            template = str(self.directory / "template.sqlite3")
            url = f"sqlite:///{template}"
        else:
            template = f"grc_test_template_{_unique_suffix()}"
            url = _create_pg_database(template)
        settings = Settings.from_env(
            {}, environment="testing", database_url=url, instance_path=str(self.directory)
        )
        application = create_app(settings)
        with application.app_context():
            upgrade(directory=MIGRATIONS)
            db.engine.dispose()  # a template is copied only when nobody is connected to it
        self.built[backend] = template
        return template

    def drop(self) -> None:
        if "postgresql" in self.built:
            _drop_pg_database(self.built.pop("postgresql"))


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    templates = MigratedTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.drop()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, migrated_templates: MigratedTemplates
) -> Iterator[str]:
    name = f"grc_test_{_unique_suffix()}"
    yield migrated_templates.copy(request.param, name)
    if request.param == "postgresql":
        _drop_pg_database(name)


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("instance")
    settings = Settings.from_env(
        {},
        environment="testing",
        database_url=database_url,
        instance_path=str(instance),
        password_hashing=FAST_PASSWORD_HASHING,
    )
    application = create_app(settings)
    yield application
    with application.app_context():
        db.engine.dispose()


def _empty_all_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            _empty_postgresql(conn, tables)
        else:
            for table in tables:
                conn.execute(sa.text(f"DELETE FROM {table}"))  # noqa: S608


# Every sequence drawn from since it started (the tables' ids, the claim references) back to
# its start, as ALTER SEQUENCE … RESTART does.
_RESTART_USED_SEQUENCES = """
    SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false)
    FROM pg_sequences WHERE last_value IS NOT NULL
"""


def _empty_postgresql(conn: sa.Connection, tables: list[str]) -> None:
    """The tables as ``TRUNCATE <every table> RESTART IDENTITY`` leaves them, without its
    cost (new files for each table and index: 0.1 to 0.2 s a test, however few rows).

    Each table is emptied by DELETE, referencing tables first, but the timeline, whose
    trigger refuses deletions, by TRUNCATE (no table references it). The catalogue's stamp
    goes first: the triggers of the catalogue's tables then write a new one, as they did
    after TRUNCATE, so that no process keeps its copy of the previous test's catalogue.
    The claim references restart with the tables' ids (as SQLite's counter rows go with
    their table)."""
    conn.execute(sa.text("DELETE FROM catalogue_versions"))
    for table in tables:
        if table == "claim_events":
            conn.execute(sa.text("TRUNCATE claim_events"))
        elif table != "catalogue_versions":
            conn.execute(sa.text(f"DELETE FROM {table}"))  # noqa: S608
    conn.execute(sa.text(_RESTART_USED_SEQUENCES))


@pytest.fixture(autouse=True)
def _no_internet(network_guard: list[str]) -> None:  # noqa: F811 - the fixture above
    """Every test fails if anything tries to reach a non-loopback address."""


@pytest.fixture
def sent(app: Flask) -> MemorySender:
    """What the in-memory e-mail and SMS senders received during the test."""
    memory = MemorySender()
    set_senders(app, memory, memory)
    return memory


@pytest.fixture
def app_ctx(app: Flask, sent: MemorySender) -> Iterator[Flask]:
    with app.app_context():
        yield app
        db.session.remove()
        _empty_all_tables()


@pytest.fixture
def backend(app: Flask) -> str:
    with app.app_context():
        return db.engine.dialect.name


@pytest.fixture
def client(app_ctx: Flask) -> FlaskClient:
    return app_ctx.test_client()


@pytest.fixture(scope="module")
def _module_chromium() -> Iterator[object]:
    from tests.browser import chromium

    with chromium() as launched:
        yield launched


@pytest.fixture
def chromium_browser(_module_chromium: Any) -> Iterator[Any]:
    """Debian's Chromium, launched once for the tests of a module (launching it and
    Playwright costs about a second); each test opens its own contexts (``new_page``),
    closed after it. Once a module is over nothing of its Playwright is left running:
    Playwright's sync API runs one at a time per thread."""
    yield _module_chromium
    for context in _module_chromium.contexts:
        context.close()


@pytest.fixture
def web_client(app_ctx: Flask) -> FlaskClient:
    """A test client for the staff screens: each request in a fresh application context."""
    from tests.pages import PageClient

    return PageClient(app_ctx, app_ctx.response_class, use_cookies=True)


@pytest.fixture
def world(app_ctx: Flask) -> World:
    """A small landlord: two territories, three agencies, units, contracts, tenants, users."""
    built = build_world(db.session)
    db.session.commit()
    return built
