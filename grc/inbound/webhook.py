"""E-mail in: SendGrid Inbound Parse posts, kept byte for byte before anything else.

The webhook authenticates the post (HTTP basic auth and/or a secret path segment, as
configured; neither configured means every post is refused), refuses oversized posts with
413, writes the raw HTTP body and its Content-Type in one commit and only then answers 200.
While the database is unavailable it answers 503, so SendGrid keeps the mail and retries.
Parsing, matching and reading happen in the ``inbound`` worker (``grc.inbound.processing``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from http import HTTPStatus

from flask import Blueprint, Response, current_app, request

from grc.clock import settings
from grc.db import utcnow
from grc.errors import error_response
from grc.extensions import db
from grc.inbound.operations import store_inbound

log = logging.getLogger(__name__)
blp = Blueprint("inbound_email", __name__, url_prefix="/webhooks/sendgrid")


def _authenticated(path_secret: str | None) -> bool:
    config = settings()
    if not config.inbound_basic_auth and not config.inbound_path_secret:
        return False  # not configured: nothing gets in
    if config.inbound_path_secret and not (
        path_secret and hmac.compare_digest(path_secret, config.inbound_path_secret)
    ):
        return False
    if config.inbound_basic_auth:
        header = request.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        if not hmac.compare_digest(given.encode(), config.inbound_basic_auth.encode()):
            return False
    return True


@blp.post("/inbound")
@blp.post("/inbound/<path_secret>")
def sendgrid_inbound(path_secret: str | None = None) -> Response | tuple[Response, int]:
    if not _authenticated(path_secret):
        response = error_response(HTTPStatus.UNAUTHORIZED, "Authentication required.")
        response.headers["WWW-Authenticate"] = 'Basic realm="grc-inbound"'
        return response
    limit = settings().inbound_max_bytes
    if request.content_length is not None and request.content_length > limit:
        return error_response(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"The post exceeds {limit} bytes."
        )
    content_type = request.headers.get("Content-Type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        return error_response(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Inbound Parse posts are multipart/form-data."
        )
    # Read the body ourselves, never past the limit (a post may come without Content-Length).
    request.max_content_length = limit + 1
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        return error_response(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"The post exceeds {limit} bytes."
        )
    if not raw:
        return error_response(HTTPStatus.BAD_REQUEST, "The post is empty.")
    email_id = store_inbound(db.session, content_type, raw, utcnow())
    db.session.commit()
    log.info("inbound e-mail %s stored (%d bytes)", email_id, len(raw))
    return current_app.response_class(
        f'{{"id": {email_id}, "status": "received"}}\n', status=200, mimetype="application/json"
    )
