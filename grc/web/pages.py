"""What every screen shares: its blueprint (HTML error pages), the permission guard, the
navigation and the role's home page."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeVar

import flask
from flask import Blueprint, Flask, g, make_response, render_template, request
from flask_babel import LazyString
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from grc.auth import ROLE_PERMISSIONS, Permission
from grc.clock import settings
from grc.errors import DomainError, error_response, safe_rollback
from grc.people.models import Role
from grc.web.extensions import csrf, login_manager

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


# The blueprints of screens: only their posts carry (and are checked for) a CSRF token. The
# API is authenticated by bearer tokens, webhooks by their signatures and the contractors'
# pages by their signed links, never by the session cookie a forged post would ride on.
_SCREENS: set[str] = set()


def page_blueprint(name: str, import_name: str, **options: Any) -> Blueprint:
    """A blueprint of screens: its templates in ``templates/``, its errors as pages, its
    posts checked for the session's CSRF token."""
    _SCREENS.add(name)
    blueprint = Blueprint(name, import_name, template_folder="templates", **options)
    blueprint.register_error_handler(DomainError, _domain_error_page)
    blueprint.register_error_handler(HTTPException, _http_error_page)
    blueprint.register_error_handler(sa_exc.OperationalError, _database_unavailable_page)
    blueprint.register_error_handler(sa_exc.InterfaceError, _database_unavailable_page)
    blueprint.register_error_handler(sa_exc.TimeoutError, _database_unavailable_page)
    return blueprint


def page(permission: Permission | None = None) -> Callable[[F], F]:
    """Only for a signed-in user (else to the sign-in page) whose role has ``permission``
    (else 403). Operations find the user where API views leave it (``grc.auth.current_user``)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if permission is not None and not can(permission):
                return error_page(HTTPStatus.FORBIDDEN)
            g.user = current_user._get_current_object()
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature

    return decorator


def can(permission: Permission) -> bool:
    role = getattr(current_user, "role", None)
    return role is not None and permission in ROLE_PERMISSIONS[role]


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: LazyString
    permission: Permission | None = None
    roles: tuple[Role, ...] = ()


_NAVIGATION: list[NavItem] = []
# Where each role lands after signing in (the first of these its screens provide).
HOME_BY_ROLE: dict[Role, tuple[str, ...]] = {
    Role.AGENT: ("console.index",),
    Role.UNIT: ("queue.my_unit", "queue.index"),
    Role.MANAGER: ("reports.dashboard", "queue.index"),
    Role.ADMIN: ("administration.index",),
}


def add_to_navigation(item: NavItem) -> None:
    """A screen's entry in the header menu (once, whatever the number of apps built)."""
    if all(existing.endpoint != item.endpoint for existing in _NAVIGATION):
        _NAVIGATION.append(item)


def navigation(app: Flask) -> list[NavItem]:
    role = getattr(current_user, "role", None)
    if role is None:
        return []
    return [
        item
        for item in _NAVIGATION
        if item.endpoint in app.view_functions
        and (item.permission is None or item.permission in ROLE_PERMISSIONS[role])
        and (not item.roles or role in item.roles)
    ]


def home_endpoint(app: Flask, role: Role) -> str | None:
    for endpoint in HOME_BY_ROLE.get(role, ()):
        if endpoint in app.view_functions:
            return endpoint
    return None


def error_page(status: HTTPStatus, message: str | None = None) -> tuple[str, int]:
    return (
        render_template("web/error.html", status=status, message=message),
        status.value,
    )


def _wants_page() -> bool:
    """A browser asking for a page (it says it accepts HTML), not an API client."""
    return not request.path.startswith(("/api/", "/webhooks/")) and "text/html" in (
        request.headers.get("Accept", "")
    )


def _domain_error_page(error: DomainError) -> Any:
    safe_rollback()
    # The operation speaks English to API clients; the page says it with its own words.
    return error_page(HTTPStatus(error.status_code))


def _http_error_page(error: HTTPException) -> Any:
    status = HTTPStatus(error.code or 500)
    if isinstance(error, CSRFError):
        return error_page(status, "csrf")
    return error_page(status)


def _database_unavailable_page(error: Exception) -> Any:
    log.warning("database unavailable: %s", type(error).__name__)
    safe_rollback()
    body, status = error_page(HTTPStatus.SERVICE_UNAVAILABLE)
    return body, status, {"Retry-After": "5"}


def takes_files(limit: Callable[[], int]) -> Callable[[F], F]:
    """A screen whose form sends files: a signed-in user's post may be up to ``limit()``
    bytes, instead of the application's MAX_CONTENT_LENGTH (set before the CSRF check reads
    the form; larger is a 413)."""

    def decorator(view: F) -> F:
        view.body_limit = limit  # type: ignore[attr-defined]  # read by check_csrf_on_screens
        return view

    return decorator


def init_app(app: Flask) -> None:
    @app.before_request
    def check_csrf_on_screens() -> None:
        if request.blueprint in _SCREENS:
            view = app.view_functions.get(request.endpoint or "")
            limit = getattr(view, "body_limit", None)
            if limit is not None and current_user.is_authenticated:
                request.max_content_length = limit()
            csrf.protect()

    @app.context_processor
    def page_context() -> dict[str, Any]:
        return {"navigation": navigation(app), "can": can}

    @app.errorhandler(HTTPStatus.NOT_FOUND)
    @app.errorhandler(HTTPStatus.METHOD_NOT_ALLOWED)
    def unknown_address(error: HTTPException) -> Any:
        # An address no screen or API route answers: a page for a browser, JSON otherwise
        # (the API's clients keep the body shape they know).
        status = HTTPStatus(error.code or 404)
        if _wants_page():
            return error_page(status)
        return error_response(status, error.description or status.phrase)


ResponseT = TypeVar("ResponseT", bound=Response)


def token_page(template: str, status: int = 200, **context: object) -> flask.Response:
    """A page reached by a signed link from an e-mail, without signing in (a contractor's
    confirmation, a tenant's survey or poll answer): in the landlord's name, kept private."""
    response = make_response(
        render_template(template, landlord=settings().landlord_name, **context), status
    )
    return keep_token_page_private(response)


def keep_token_page_private(response: ResponseT) -> ResponseT:
    """A page whose address holds its only credential (a signed link from an e-mail: the
    contractor's confirmations, a tenant's survey answer) is kept out of caches, referrers
    and search indexes."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
