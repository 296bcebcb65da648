"""GRC: claims handling for social-housing landlords. ``create_app`` builds the application;
``create_exports_app`` the smaller one the exports worker runs in.

The package holds the shared modules (configuration, database helpers, errors, auth, the
API's argument parsing, the work tables, provider signatures) and one package per domain:
``housing``, ``people``, ``claims``, ``contracts``, ``inbound``, ``messaging`` and
``telephony``, each saying in its docstring what it owns and what it may import. The shared
modules import no domain package, except ``auth`` (users and their tokens), ``catalogue``
(loads the catalogue), the CLI and the demo. The staff screens share ``web`` (layout, guard,
words, formats) and ``accounts`` (sign-in); the screens of a domain live in its package,
those spanning several in ``console`` and ``administration``.
The core imports nothing of RQ, SendGrid or Twilio; ``contractors`` and ``notifications``
are libraries it calls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from grc.config import Settings


def create_app(config: Settings | dict[str, Any] | None = None) -> Flask:
    """Build the application; ``config`` is a Settings, or overrides of the environment's."""
    from grc.web import application as web

    app = _application(config, locale_selector=web.select_locale)
    settings = app.extensions["grc_settings"]
    if settings.environment == "production" and not settings.public_url:
        # Work-order e-mails would carry relative links a contractor cannot open.
        app.logger.warning("GRC_PUBLIC_URL is not set: links in e-mails will not work")

    from flask_migrate import Migrate
    from flask_smorest import Api

    from grc import errors, security_headers
    from grc.extensions import db

    Migrate(
        app,
        db,
        directory=str(Path(__file__).resolve().parent.parent / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    api = Api(app)
    errors.init_app(app)
    security_headers.init_app(app)

    from grc.claims.api import blp as claims_blp
    from grc.claims.api import catalogue_blp, tenant_claims_blp
    from grc.claims.configuration_api import blp as configuration_blp
    from grc.contracts.api import blp as work_orders_blp
    from grc.cus.api import blp as cus_blp
    from grc.housing.api import blp as agencies_blp
    from grc.inbound.api import blp as inbound_emails_blp
    from grc.messaging.api import blp as messages_blp
    from grc.people.api import blp as tenants_blp
    from grc.polls.api import blp as polls_blp
    from grc.ratings.api import blp as ratings_blp
    from grc.reports.api import blp as reports_blp
    from grc.telephony.api import blp as calls_blp

    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "API token (grc_…)"}
    )
    for blueprint in (
        catalogue_blp,
        configuration_blp,
        agencies_blp,
        tenants_blp,
        tenant_claims_blp,
        claims_blp,
        messages_blp,
        work_orders_blp,
        inbound_emails_blp,
        calls_blp,
        ratings_blp,
        polls_blp,
        cus_blp,
        reports_blp,
    ):
        api.register_blueprint(blueprint)

    from grc import worktable
    from grc.contracts.views import blp as work_order_links_blp
    from grc.docs import blp as docs_blp
    from grc.inbound.webhook import blp as inbound_blp
    from grc.messaging.views import blp as dev_outbox_page_blp
    from grc.messaging.webhooks import blp as webhooks_blp
    from grc.polls.links import blp as poll_links_blp
    from grc.surveys.views import blp as survey_links_blp
    from grc.telephony.webhook import blp as voice_webhooks_blp

    app.register_blueprint(docs_blp)
    app.register_blueprint(webhooks_blp)
    app.register_blueprint(voice_webhooks_blp)
    app.register_blueprint(inbound_blp)
    app.register_blueprint(work_order_links_blp)
    app.register_blueprint(survey_links_blp)
    app.register_blueprint(poll_links_blp)
    app.register_blueprint(dev_outbox_page_blp)
    worktable.init_app(app)

    # The staff web application (its screens are registered with their packages below).
    from grc.accounts.views import blp as accounts_blp
    from grc.administration.views import blp as administration_blp
    from grc.claims.views import claim_blp, queue_blp
    from grc.console.views import blp as console_blp
    from grc.contracts.admin_views import blp as contracts_admin_blp
    from grc.cus.views import blp as cus_pages_blp
    from grc.exports.views import blp as exports_blp
    from grc.inbound.views import blp as mail_blp
    from grc.polls.views import blp as polls_pages_blp
    from grc.ratings.views import blp as ratings_pages_blp
    from grc.reports.exports import register_report_exports
    from grc.reports.views import blp as reports_pages_blp

    web.init_app(app)
    app.register_blueprint(accounts_blp)
    app.register_blueprint(console_blp)
    app.register_blueprint(queue_blp)
    app.register_blueprint(claim_blp)
    app.register_blueprint(mail_blp)
    app.register_blueprint(administration_blp)
    app.register_blueprint(contracts_admin_blp)
    app.register_blueprint(ratings_pages_blp)
    app.register_blueprint(polls_pages_blp)
    app.register_blueprint(exports_blp)
    app.register_blueprint(cus_pages_blp)
    app.register_blueprint(reports_pages_blp)
    # Every report downloads as CSV and XLSX through the exports' pages.
    register_report_exports()
    if settings.proxy_fix:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Flask's documented way to add WSGI middleware: replace the app's wsgi_app.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    # Background work is wired by the workers package (RQ, or in-process without Redis);
    # the core only knows the hand-over interface.
    import workers

    workers.init_app(app)

    from grc.cli import register_cli

    register_cli(app)
    return app


def create_exports_app(config: Settings | dict[str, Any] | None = None) -> Flask:
    """The application of an exports worker (``python -m workers.exports``): the database,
    the catalogues and every kind of export, and nothing of the web, the API, the command
    line or the providers, so that a worker writing a million rows stays within 100 MB
    (bench/exports.py)."""
    from grc.exports import claim_list  # noqa: F401  (registers itself on import)
    from grc.reports.exports import register_report_exports

    app = _application(config)
    register_report_exports()
    return app


def _application(
    config: Settings | dict[str, Any] | None, locale_selector: Callable[[], str] | None = None
) -> Flask:
    """What every process of GRC runs in: the settings, the log, the database with every
    model, and the catalogues (in the language ``locale_selector`` chooses, else the default
    one)."""
    settings = config if isinstance(config, Settings) else Settings.from_env(**(config or {}))

    app = Flask(__name__, instance_path=str(Path(settings.instance_path).resolve()))
    app.session_interface = _SessionOnlyWithCookie()
    app.config.from_mapping(settings.flask_config())
    app.extensions["grc_settings"] = settings
    if settings.database_url.startswith("sqlite:///"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _configure_logging(app)

    from grc import models  # noqa: F401  (every model registered before use)
    from grc.db import ping_idle_connections
    from grc.extensions import db, init_catalogues

    db.init_app(app)
    with app.app_context():
        ping_idle_connections(db.engine)
    init_catalogues(app, locale_selector)
    return app


def _configure_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
    # Alembic announces each of its plugins and the database's DDL habits on every command
    # (even `--help`): noise. What a migration does ("Running upgrade …") is still shown.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    migration_log = logging.getLogger("alembic.runtime.migration")
    if not any(isinstance(f, _AlembicChatterFilter) for f in migration_log.filters):
        migration_log.addFilter(_AlembicChatterFilter())


class _AlembicChatterFilter(logging.Filter):
    _CHATTER = ("Context impl ", "Will assume ")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self._CHATTER)


class _SessionOnlyWithCookie(SecureCookieSessionInterface):
    """Flask's cookie session, without building its signer for requests that carry no
    session cookie: every API call and every contractor link (none uses the session)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)
