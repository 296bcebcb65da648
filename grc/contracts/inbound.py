"""E-mail in: SendGrid Inbound Parse posts, kept byte for byte before anything else.

The webhook authenticates the post (HTTP basic auth and/or a secret path segment, as
configured; neither configured means every post is refused), refuses oversized posts with
413, writes the raw HTTP body and its Content-Type in one commit and only then answers 200.
While the database is unavailable it answers 503, so SendGrid keeps the mail and retries.
Parsing, matching and reading happen in the ``inbound`` worker (``contractors.inbox``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from http import HTTPStatus

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, request
from sqlalchemy.orm import Session

from grc.claims.models import Claim
from grc.claims.operations import NewClaim, create_claim
from grc.claims.schemas import MAX_DESCRIPTION
from grc.clock import settings
from grc.contracts.models import InboundEmail, InboundStatus
from grc.db import utcnow
from grc.errors import Conflict, error_response
from grc.extensions import db
from grc.messaging import handover
from grc.people.models import User

log = logging.getLogger(__name__)
blp = Blueprint("inbound_email", __name__, url_prefix="/webhooks/sendgrid")

# app.extensions key of the callable the workers package registers to process stored e-mails.
INBOUND_DISPATCHER = "grc_inbound_dispatcher"


def store_inbound(session: Session, content_type: str, raw_post: bytes, now: datetime) -> int:
    email = InboundEmail(
        content_type=content_type[:200],
        raw_post=raw_post,
        status=InboundStatus.RECEIVED,
        received_at=now,
    )
    session.add(email)
    session.flush()
    process_after_commit(session, email.id)
    return email.id


def process_after_commit(session: Session, email_id: int) -> None:
    handover.job_after_commit(session, INBOUND_DISPATCHER, email_id)


INBOUND_SWEEP_GRACE = timedelta(minutes=5)


def emails_to_hand_over(session: Session, now: datetime, after_seconds: int) -> list[int]:
    """Stored e-mails nobody processed (Redis was down, the process died after the commit)."""
    return list(
        session.execute(
            sa.select(InboundEmail.id)
            .where(
                InboundEmail.status == InboundStatus.RECEIVED,
                # Well past the sweep delay: a backlog in the queue is not a lost hand-over
                # (processing twice is harmless, but costs the workers when they are behind).
                InboundEmail.received_at
                <= now - max(timedelta(seconds=after_seconds), INBOUND_SWEEP_GRACE),
                InboundEmail.attempts < 5,
            )
            .order_by(InboundEmail.id)
            .limit(1000)
        ).scalars()
    )


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


def register_intake(
    session: Session, inbound: InboundEmail, command: NewClaim, actor: User, now: datetime
) -> Claim:
    """Register the claim a tenant's e-mail asks for, and file the e-mail on it."""
    if inbound.status != InboundStatus.INTAKE:
        raise Conflict(f"The e-mail is {inbound.status}: only intake e-mails are registered.")
    description = command.description or (inbound.new_text or "").strip() or inbound.subject
    command = replace(
        command,
        description=(description or "")[:MAX_DESCRIPTION],
        tenant_id=command.tenant_id or inbound.tenant_id,
    )
    claim = create_claim(session, command, actor, now)
    inbound.claim_id = claim.id
    inbound.matched_by = "intake"
    inbound.status = InboundStatus.APPLIED
    session.flush()
    return claim
