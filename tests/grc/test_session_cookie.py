"""The cookie session is only opened for a request that carries its cookie: API calls and
contractor links (none uses it) skip building its signer."""

from __future__ import annotations

import flask
import pytest


def test_a_request_without_the_cookie_gets_an_empty_session_without_the_signer(app, monkeypatch):
    def no_signer(app):
        raise AssertionError("the session signer was built")

    monkeypatch.setattr(app.session_interface, "get_signing_serializer", no_signer)

    with app.test_request_context("/api/v1/categories"):
        opened = app.session_interface.open_session(app, flask.request)

    assert opened is not None
    assert dict(opened) == {}
    assert not opened.modified


@pytest.mark.parametrize("signed", [True, False])
def test_a_request_with_the_cookie_reads_it_as_flask_does(app, signed):
    interface = app.session_interface
    with app.test_request_context("/"):
        serializer = interface.get_signing_serializer(app)
    value = serializer.dumps({"locale": "en"}) if signed else "forged"
    cookie = f"{interface.get_cookie_name(app)}={value}"

    with app.test_request_context("/", headers={"Cookie": cookie}):
        opened = interface.open_session(app, flask.request)

    assert dict(opened) == ({"locale": "en"} if signed else {})
