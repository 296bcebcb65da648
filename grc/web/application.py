"""The staff web application set up on the Flask app: sessions (Flask-Login), CSRF on every
form (Flask-WTF), the sign-in limits, the language of every page and the templates' words."""

from __future__ import annotations

from babel.support import NullTranslations
from flask import Flask, request, session
from flask_babel import get_translations
from flask_babel import refresh as refresh_locale
from flask_login import AnonymousUserMixin, current_user

from grc.extensions import db
from grc.people.models import User
from grc.web import LOCALES, current_language, for_page
from grc.web.extensions import csrf, limiter, login_manager


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


class Anonymous(AnonymousUserMixin):
    role = None
    name = ""


def init_app(app: Flask) -> None:
    from grc.web import formatting, pages, views
    from grc.web.words import Words

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
