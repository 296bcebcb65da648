"""Flask extensions, created once and bound to the app by ``init_app``."""

from typing import TYPE_CHECKING

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
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
migrate = Migrate()
api = Api()

# The staff web application: sessions, CSRF on every form, catalogues, sign-in limits.
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)
