"""The staff web application's shared layer: sessions (Flask-Login), CSRF on every form
(Flask-WTF), the catalogues (Flask-Babel: French by default, English by a switch, times in
Europe/Paris), the page layout and navigation, the words shared by every screen, date and
duration formats, and HTML error pages.

Screens live in their domain packages (``views.py``, ``forms.py``, ``templates/<package>/``
and ``translations/``), built with ``pages.page_blueprint`` and ``pages.page``; each
package's catalogue is merged with the others at start-up. This package imports the shared
modules and the domain models (the signed-in user, the words of statuses), never a domain's
operations or views; domain views import it, never the reverse.

This module holds what a page's words need (its language, what it reads once), and nothing
of sessions or forms, so that an export written away from any page, by a worker that loads
none of the web (``workers.exports``), can use the same words; ``application`` sets the web
application up on the Flask app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from flask import has_request_context, request
from flask_babel import get_locale

LOCALES = ("fr", "en")


def current_language() -> str:
    """The language of the page being rendered: "fr" or "en"."""
    locale = get_locale()
    return locale.language if locale is not None else "fr"


T = TypeVar("T")


def for_page(key: str, build: Callable[[], T]) -> T:
    """``build()``, kept for the rest of the request in its language (a page may force
    another language for a moment): what a page reads once rather than for each of its
    hundreds of words and dates. Outside a request, built each time."""
    if not has_request_context():
        return build()
    known = request.environ.setdefault(f"grc.page.{key}", {})
    locale = get_locale()
    if locale not in known:
        known[locale] = build()
    return cast("T", known[locale])
