"""Provider callbacks: Twilio status and inbound SMS, SendGrid's signed Event Webhook.

Each request is authenticated before anything is read into the database: Twilio's
X-Twilio-Signature against the public URL (GRC_PUBLIC_URL, or the request URL as rebuilt by
ProxyFix behind a TLS-terminating proxy), SendGrid's ECDSA signature with the configured
public key. A forged, unsigned or unconfigured callback gets 403 and changes nothing;
repeating a genuine one changes the record once.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Blueprint, Response, request

from grc.clock import settings
from grc.db import utcnow
from grc.errors import error_response
from grc.extensions import db
from grc.messaging.inbound_sms import receive_sms
from grc.messaging.operations import ProviderUpdate, apply_provider_update
from grc.provider_signatures import refused, twilio_request_authentic
from notifications import callbacks

log = logging.getLogger(__name__)
blp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@blp.post("/twilio/status")
def twilio_status() -> Response | tuple[str, int]:
    if not twilio_request_authentic():
        return refused()
    # The message key rides in the callback URL's query string: read form and query.
    try:
        update = callbacks.parse_twilio_status(request.values.to_dict())
    except ValueError as error:
        # Authentic but not applicable (a status we do not track): acknowledge it, or
        # Twilio would retry it forever.
        log.info("twilio status callback ignored: %s", error)
        return "", HTTPStatus.NO_CONTENT
    changed = apply_provider_update(db.session, _as_update(update), utcnow())
    db.session.commit()
    log.info("twilio status %s for %s (changed=%s)", update.status, update.provider_id, changed)
    return "", HTTPStatus.NO_CONTENT


@blp.post("/twilio/inbound")
def twilio_inbound() -> Response:
    if not twilio_request_authentic():
        return refused()
    try:
        sms = callbacks.parse_twilio_inbound(request.form.to_dict())
    except ValueError:
        return error_response(
            HTTPStatus.BAD_REQUEST, "The message has no MessageSid or no From number."
        )
    receive_sms(db.session, sms.provider_id, sms.from_number, sms.body, utcnow())
    db.session.commit()
    return Response(EMPTY_TWIML, mimetype="text/xml")


@blp.post("/sendgrid/events")
def sendgrid_events() -> Response | tuple[str, int]:
    public_key = settings().sendgrid_event_public_key
    payload = request.get_data(cache=False)
    if not public_key or not callbacks.verify_sendgrid_event(
        public_key,
        payload,
        request.headers.get("X-Twilio-Email-Event-Webhook-Signature"),
        request.headers.get("X-Twilio-Email-Event-Webhook-Timestamp"),
    ):
        return refused()
    try:
        updates = callbacks.parse_sendgrid_events(payload)
    except ValueError:
        return error_response(HTTPStatus.BAD_REQUEST, "The event payload is not valid JSON.")
    now = utcnow()
    changed = sum(apply_provider_update(db.session, _as_update(u), now) for u in updates)
    db.session.commit()
    log.info("sendgrid events: %d received, %d applied", len(updates), changed)
    return "", HTTPStatus.NO_CONTENT


def _as_update(update: callbacks.DeliveryUpdate) -> ProviderUpdate:
    return ProviderUpdate(
        provider=update.provider,
        provider_id=update.provider_id,
        status=update.status,
        error_code=update.error_code,
        message_key=update.message_key,
        occurred_at=update.occurred_at,
    )
