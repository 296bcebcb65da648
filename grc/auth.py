"""Bearer-token authentication for the JSON API and role permissions.

Tokens are 256-bit random secrets: a SHA-256 digest is enough to store them safely (a slow
password hash would cost every API call tens of milliseconds for no gain).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from flask import Response, g, request

from grc.db import StrEnum, rows_changed, utcnow
from grc.errors import error_response
from grc.extensions import db
from grc.people.models import ApiToken, Role, User

TOKEN_PREFIX = "grc_"  # noqa: S105 - a public marker, not a secret
F = TypeVar("F", bound=Callable[..., Any])


class Permission(StrEnum):
    CATALOGUE_READ = "catalogue:read"
    CATALOGUE_WRITE = "catalogue:write"
    TENANTS_SEARCH = "tenants:search"
    CLAIMS_READ = "claims:read"
    CLAIMS_CREATE = "claims:create"
    CLAIMS_ACT = "claims:act"
    CLAIMS_COMMENT = "claims:comment"
    MESSAGES_READ = "messages:read"
    MESSAGES_ADMIN = "messages:admin"
    # Inbound e-mail: read what came in (and why it was not applied), attach or reprocess it.
    INBOUND_READ = "inbound:read"
    INBOUND_TRIAGE = "inbound:triage"
    # Incoming calls: see who is waiting or being handled; pick one up, link its claims.
    CALLS_READ = "calls:read"
    CALLS_HANDLE = "calls:handle"
    # Supplier ratings: read them; set the weights they are computed with.
    RATINGS_READ = "ratings:read"
    RATINGS_ADMIN = "ratings:admin"
    # Quality-of-service polls: read the results; launch one; work the call list.
    POLLS_READ = "polls:read"
    POLLS_LAUNCH = "polls:launch"
    POLLS_CALL = "polls:call"
    # Managers' reports over the whole landlord, the regulatory (CUS) indicators among them
    # (a unit's staff have their queue instead).
    REPORTS_READ = "reports:read"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset(
        {
            Permission.CATALOGUE_READ,
            Permission.TENANTS_SEARCH,
            Permission.CLAIMS_READ,
            Permission.CLAIMS_CREATE,
            Permission.CLAIMS_ACT,
            Permission.CLAIMS_COMMENT,
            Permission.INBOUND_READ,
            Permission.INBOUND_TRIAGE,
            Permission.CALLS_READ,
            Permission.CALLS_HANDLE,
            Permission.POLLS_CALL,
        }
    ),
    Role.UNIT: frozenset(
        {
            Permission.CATALOGUE_READ,
            Permission.TENANTS_SEARCH,
            Permission.CLAIMS_READ,
            Permission.CLAIMS_ACT,
            Permission.CLAIMS_COMMENT,
            Permission.INBOUND_READ,
            Permission.INBOUND_TRIAGE,
        }
    ),
    Role.MANAGER: frozenset(
        {
            Permission.CATALOGUE_READ,
            Permission.TENANTS_SEARCH,
            Permission.CLAIMS_READ,
            Permission.MESSAGES_READ,
            Permission.INBOUND_READ,
            Permission.CALLS_READ,
            Permission.RATINGS_READ,
            Permission.POLLS_READ,
            Permission.POLLS_LAUNCH,
            Permission.REPORTS_READ,
        }
    ),
    Role.ADMIN: frozenset(
        {
            Permission.CATALOGUE_READ,
            Permission.CATALOGUE_WRITE,
            Permission.TENANTS_SEARCH,
            Permission.CLAIMS_READ,
            Permission.MESSAGES_READ,
            Permission.MESSAGES_ADMIN,
            Permission.INBOUND_READ,
            Permission.INBOUND_TRIAGE,
            Permission.RATINGS_READ,
            Permission.RATINGS_ADMIN,
            Permission.POLLS_READ,
            Permission.REPORTS_READ,
        }
    ),
}


class AuthError(Exception):
    pass


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(user: User, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user``; the clear secret is returned once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[:10],
        expires_at=expires_at,
    )
    db.session.add(token)
    return token, secret


def revoke_tokens(
    session: sa.orm.Session, now: datetime, *, secret: str | None = None, user: User | None = None
) -> int:
    """Revoke one token (by its secret) or every live token of ``user``; how many were.

    A revoked token is refused by the very next request; the row stays, for the record."""
    if (secret is None) == (user is None):
        raise ValueError("revoke one token or one user's tokens")
    if secret is not None:
        where = ApiToken.token_hash == hash_token(secret.strip())
    else:  # one of secret and user is given (checked above): here, the user
        where = ApiToken.user_id == cast("User", user).id
    result = session.execute(
        sa.update(ApiToken)
        .where(where, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result)


# Every API request starts with this query: built once, so that SQLAlchemy need not build
# it and compute its cache key again on every request.
_LIVE_TOKEN_HOLDER = (
    sa.select(User)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_hash == sa.bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        sa.or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > sa.bindparam("now")),
        User.active,
    )
)


def user_for_token(secret: str, now: datetime) -> User | None:
    """The active user holding this live token (not revoked, not expired), else None."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    return db.session.execute(
        _LIVE_TOKEN_HOLDER, {"token_hash": hash_token(secret), "now": now}
    ).scalar_one_or_none()


def current_user() -> User:
    user = g.get("user")
    if user is None:  # pragma: no cover - every API view is behind require()
        raise RuntimeError("current_user() outside an authenticated API view")
    return user


def _unauthorized(message: str) -> Response:
    from http import HTTPStatus

    response = error_response(HTTPStatus.UNAUTHORIZED, message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="grc"'
    return response


def require(permission: Permission) -> Callable[[F], F]:
    """Authenticate the bearer token and check the role has ``permission``."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from http import HTTPStatus

            header = request.headers.get("Authorization", "")
            scheme, _, secret = header.partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                return _unauthorized("A bearer token is required.")
            user = user_for_token(secret.strip(), utcnow())
            if user is None:
                return _unauthorized("The token is invalid, expired or revoked.")
            if permission not in ROLE_PERMISSIONS[user.role]:
                return error_response(
                    HTTPStatus.FORBIDDEN, f"Your role ({user.role}) may not do this."
                )
            g.user = user
            return view(*args, **kwargs)

        # functools.wraps keeps the view's name and signature: the wrapper stands for it.
        return wrapper  # type: ignore[return-value]

    return decorator
