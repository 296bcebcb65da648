"""The Flask extensions every GRC process binds (``grc._application``): the database and
the catalogues. The staff web application's own are in ``grc.web.extensions``; the API and
the migrations are bound by ``create_app`` alone, which a worker writing exports does without."""

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask
from flask_babel import Babel
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, Session

# Named constraints keep migrations readable and let SQLite batch mode alter tables.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


if TYPE_CHECKING:

    class _ScopedSession(Session):
        """``db.session`` as its callers see it: every call goes to the Session of the
        app context (operations take a Session), and ``remove`` ends it."""

        def remove(self) -> None: ...


class _SQLAlchemy(SQLAlchemy):
    if TYPE_CHECKING:
        # Flask-SQLAlchemy types it as scoped_session, which has Session's methods only
        # as run-time proxies: described here as what it forwards to.
        session: _ScopedSession  # type: ignore[assignment]


# Objects stay readable after the commit without another round trip: a response is
# serialised from what was committed, even if the database went away just after.
db = _SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})

# The base class of every model. Flask-SQLAlchemy builds ``db.Model`` at run time as a
# subclass of Base (adding table names and binds), which a type checker cannot follow.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model

# The catalogues of every process (the web's pages, the workers' e-mails and exports).
babel = Babel()


def translation_directories() -> list[str]:
    """Every package's catalogue directory (``grc/<package>/translations``)."""
    root = Path(__file__).resolve().parent
    return sorted(str(path) for path in root.glob("*/translations") if path.is_dir())


def init_catalogues(app: Flask, locale_selector: Callable[[], str] | None = None) -> None:
    """Every package's catalogue, in the language ``locale_selector`` chooses (the staff
    pages' rule), else in the default one (a worker's jobs name theirs with force_locale)."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(translation_directories())
    babel.init_app(app, locale_selector=locale_selector)
