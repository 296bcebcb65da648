"""Helpers for the staff screens' tests: a signed-in test client and the forms' CSRF token."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from grc.accounts.operations import new_session_key
from grc.extensions import db
from grc.people.models import User

_CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')


class PageClient(FlaskClient):
    """A browser: each request in its own application context, as in production, so that
    nothing in ``flask.g`` (Flask-Login's user, the CSRF token, markers) nor in the database
    session carries from one request to the next. (The test's own context, which the
    ``client`` fixture's requests share, would keep them.)"""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        with self.application.app_context():
            return super().open(*args, **kwargs)


def sign_in_as(client: FlaskClient, user: User) -> FlaskClient:
    """``client`` carries a session of ``user``, as after signing in (without the cost of
    hashing a password: the sign-in itself is tested in tests/grc/accounts)."""
    if user.session_key is None:
        user.session_key = new_session_key()
        db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


def csrf_token(client: FlaskClient, page: str = "/sign-in") -> str:
    """The CSRF token a form of ``page`` carries (the session's token: one for every form)."""
    html = client.get(page).get_data(as_text=True)
    found = _CSRF_FIELD.search(html) or _CSRF_HEADER.search(html)
    assert found, f"no CSRF token on {page}"
    return found.group(1)
