"""How every API endpoint reads its arguments: the blueprint class all API modules use.

Its parsers add, for every present and future schema, what marshmallow alone does not:

- a JSON endpoint called with another body (a form, plain text) answers 415 saying the
  body must be JSON, instead of 422 "missing data" for fields that were sent;
- a JSON string holding a lone surrogate (``"\\ud800"``: valid JSON, but no character, and
  no database can store it) is a 422 naming the field, wherever it sits;
- a page number beyond any page (``page=9223372036854775808``) is a 422 naming ``page``,
  instead of an offset the database cannot take.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

import flask
import flask_smorest
import marshmallow as ma
from webargs.flaskparser import FlaskParser, abort, is_json_request

# The highest page asked for: at 100 items a page, its offset still fits any database integer.
MAX_PAGE = 2**31 - 1

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
LONE_SURROGATE_MESSAGE = "Contains an invalid character (a lone UTF-16 surrogate)."


def lone_surrogate_errors(value: Any) -> Any:
    """Marshmallow-shaped errors for every string in a JSON value that holds a lone
    surrogate (a key in error is named with the character replaced); None when there is
    none."""
    if isinstance(value, str):
        return [LONE_SURROGATE_MESSAGE] if _LONE_SURROGATE.search(value) else None
    items: Iterable[tuple[Any, Any]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    errors: dict[Any, Any] = {}
    for key, item in items:
        found = lone_surrogate_errors(item)
        if isinstance(key, str) and _LONE_SURROGATE.search(key):
            key = _LONE_SURROGATE.sub("\ufffd", key)
            found = found or [LONE_SURROGATE_MESSAGE]
        if found:
            errors[key] = found
    return errors or None


class ArgumentsParser(FlaskParser):
    def load_json(self, req: flask.Request, schema: ma.Schema) -> Any:
        if not is_json_request(req) and (req.content_length or req.mimetype):
            abort(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                message="The body must be JSON, sent with Content-Type: application/json.",
            )
        data = super().load_json(req, schema)
        errors = lone_surrogate_errors(data)
        if errors:
            # Raised here, webargs answers 422 with the errors under "json".
            raise ma.ValidationError(errors if isinstance(errors, dict) else {"_schema": errors})
        return data


class PaginationParser(FlaskParser):
    def parse(self, argmap: Any, req: flask.Request | None = None, **kwargs: Any) -> Any:
        parameters = super().parse(argmap, req, **kwargs)
        if parameters.page > MAX_PAGE:
            abort(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                messages={"query": {"page": [f"Must be at most {MAX_PAGE}."]}},
            )
        return parameters


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's blueprint with GRC's argument parsers: every API module uses it."""

    ARGUMENTS_PARSER = ArgumentsParser()
    PAGINATION_ARGUMENTS_PARSER = PaginationParser()
