"""Domain errors and the JSON error responses every API client sees.

Operations raise the domain errors below; the handlers turn them into the same body shape
flask-smorest uses for its own errors: ``{"code", "status", "message"}`` plus ``errors``
naming each bad field.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, jsonify
from sqlalchemy import exc as sa_exc

from grc.extensions import db

log = logging.getLogger(__name__)


class DomainError(Exception):
    status_code = HTTPStatus.BAD_REQUEST

    def __init__(self, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


class InvalidInput(DomainError):
    """The request is well-formed but names things that do not exist or do not fit."""

    status_code = HTTPStatus.UNPROCESSABLE_ENTITY

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("The request has invalid fields.", {"json": errors})


class NotFound(DomainError):
    status_code = HTTPStatus.NOT_FOUND


class Forbidden(DomainError):
    status_code = HTTPStatus.FORBIDDEN


class Conflict(DomainError):
    status_code = HTTPStatus.CONFLICT


class TooLarge(DomainError):
    """What was sent is over a size limit (an attachment, a photo)."""

    status_code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


def error_response(status: HTTPStatus, message: str, errors: Any = None) -> Response:
    body: dict[str, Any] = {"code": status.value, "status": status.phrase, "message": message}
    if errors is not None:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status.value
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError) -> Response:
        db.session.rollback()
        return error_response(error.status_code, error.message, error.errors)

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    @app.errorhandler(sa_exc.TimeoutError)
    def handle_database_unavailable(error: Exception) -> Response:
        # The database is down, restarting or saturated: nothing was committed, the client
        # may retry. The statement is not logged as it may carry personal data.
        log.warning("database unavailable: %s", type(error).__name__)
        safe_rollback()
        response = error_response(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "The database is temporarily unavailable; nothing was saved. Please retry.",
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(sa_exc.DataError)
    def handle_data_error(error: sa_exc.DataError) -> Response:
        # Validation should have caught it; answer as bad input rather than a crash.
        log.warning("data error: %s", type(error.orig).__name__)
        safe_rollback()
        return error_response(
            HTTPStatus.UNPROCESSABLE_ENTITY, "A value is malformed or out of range."
        )

    @app.errorhandler(sa_exc.IntegrityError)
    def handle_integrity_error(error: sa_exc.IntegrityError) -> Response:
        log.warning("integrity error: %s", type(error.orig).__name__)
        safe_rollback()
        return error_response(
            HTTPStatus.CONFLICT, "The change conflicts with the current data; nothing was saved."
        )

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        log.exception("unexpected error")
        safe_rollback()
        return error_response(
            HTTPStatus.INTERNAL_SERVER_ERROR, "Unexpected error; nothing was saved."
        )


def safe_rollback() -> None:
    try:
        db.session.rollback()
    except sa_exc.SQLAlchemyError:
        db.session.remove()
