"""``flask db …``: Flask-Migrate (Alembic) set up on the application when one of its commands
runs, or when a caller asks for it (``set_up``, before ``flask_migrate.upgrade()``).

Alembic, its templates and the tools its command line loads weigh about 11 MB of resident
memory, which the web and worker processes would carry for nothing: ``create_app`` registers
only a stand-in for the ``db`` group, which hands over to Flask-Migrate's own group, options
and commands, as soon as ``flask db …`` is run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import ScriptInfo

DIRECTORY = str(Path(__file__).resolve().parent.parent / "migrations")


def set_up(app: Flask) -> None:
    """Flask-Migrate on ``app`` (once): its ``db`` commands, and the functions of
    ``flask_migrate`` called in the app's context, find the migrations and the models."""
    if "migrate" in app.extensions:
        return
    from flask_migrate import Migrate

    from grc.extensions import db

    Migrate(app, db, directory=DIRECTORY, render_as_batch=True, compare_type=True)


class _Migrations(click.Group):
    """Flask-Migrate's ``db`` group, loaded when it is run (its ``--help`` included)."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        if parent is None:
            raise click.UsageError("flask db runs from the flask command")
        set_up(parent.ensure_object(ScriptInfo).load_app())
        from flask_migrate.cli import db as commands

        return commands.make_context(info_name, args, parent=parent, **extra)


def init_app(app: Flask) -> None:
    app.cli.add_command(_Migrations("db", help="Perform database migrations."))
