"""The staff web application's shared layer: sessions (Flask-Login), CSRF on every form
(Flask-WTF), the catalogues (Flask-Babel: French by default, English by a switch, times in
Europe/Paris), the page layout and navigation, the words shared by every screen, date and
duration formats, and HTML error pages.

Screens live in their domain packages (``views.py``, ``forms.py``, ``templates/<package>/``
and ``translations/``), built with ``pages.page_blueprint`` and ``pages.page``; each
package's catalogue is merged with the others at start-up. This package imports the shared
modules and the domain models (the signed-in user, the words of statuses), never a domain's
operations or views; domain views import it, never the reverse.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar, cast

from babel.support import NullTranslations
from flask import Flask, has_request_context, request, session
from flask_babel import get_locale, get_translations
from flask_babel import refresh as refresh_locale
from flask_login import AnonymousUserMixin, current_user

from grc.extensions import babel, csrf, db, limiter, login_manager
from grc.people.models import User

LOCALES = ("fr", "en")
GRC_ROOT = Path(__file__).resolve().parent.parent


def translation_directories() -> list[str]:
    """Every package's catalogue directory (``grc/<package>/translations``)."""
    return sorted(str(path) for path in GRC_ROOT.glob("*/translations") if path.is_dir())


def select_locale() -> str:
    """The language of every page, by one rule: ``?lang=fr|en`` in the address (the switch
    of the pages of those without an account: contractors, the development outbox), else the
    choice kept in the session (the header's switch), else — when no one is signed in — the
    browser's preference between French and English, else the default locale."""
    from grc.clock import settings

    if not request:
        return settings().default_locale
    asked = request.args.get("lang")
    if asked in LOCALES:
        return str(asked)
    chosen = session.get("lang")
    if chosen in LOCALES:
        return str(chosen)
    if not current_user.is_authenticated:
        preferred = request.accept_languages.best_match(LOCALES)
        if preferred:
            return preferred
    return settings().default_locale


def current_language() -> str:
    """The language of the page being rendered: "fr" or "en"."""
    locale = get_locale()
    return locale.language if locale is not None else "fr"


class Anonymous(AnonymousUserMixin):
    role = None
    name = ""


def init_app(app: Flask) -> None:
    from grc.web import formatting, pages, views
    from grc.web.words import Words

    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(translation_directories())
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel keeps the chosen language on ``g``, which outlives a request served inside
    # an application context already pushed (a script, a test): each request chooses anew.
    app.before_request(refresh_locale)
    # The templates' words from the request's catalogue, found once per page rather than for
    # each word (Flask-Babel looks the catalogue up again on every call).
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the i18n extension
        lambda text: _page_translations().ugettext(text),
        lambda singular, plural, n: _page_translations().ungettext(singular, plural, n),
        newstyle=True,
        pgettext=lambda context, text: _page_translations().upgettext(context, text),
        npgettext=lambda context, singular, plural, n: _page_translations().unpgettext(
            context, singular, plural, n
        ),
    )
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.anonymous_user = Anonymous
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = None  # the sign-in page says it itself
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_signed_in_user)
    formatting.init_app(app)
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals["words"] = Words()
    app.jinja_env.globals["language"] = current_language
    pages.init_app(app)
    app.register_blueprint(views.blp)


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


def _page_translations() -> NullTranslations:
    return for_page("translations", get_translations)


def load_signed_in_user(session_id: str) -> User | None:
    """The user behind a session cookie: ``<user id>.<session key>``; a key drawn anew at
    sign-out or at a password change refuses every older cookie."""
    user_id, _, key = session_id.partition(".")
    if not user_id.isdigit() or not key:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_key != key:
        return None
    return user
