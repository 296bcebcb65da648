"""Twilio's voice webhooks: the incoming call, <Enqueue>'s action, the call's status.

Configure the number's "A call comes in" webhook as ``POST GRC_PUBLIC_URL/webhooks/twilio/
voice`` and its "Call status changes" callback as ``POST …/webhooks/twilio/voice/status``.
Each request is authenticated by its X-Twilio-Signature (``grc.provider_signatures``, as
the SMS webhooks are) before anything is read: forged or unsigned, 403 and nothing changes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, request, url_for

from grc.clock import settings
from grc.db import utcnow
from grc.errors import error_response
from grc.extensions import db
from grc.provider_signatures import public_base_url, refused, twilio_request_authentic
from grc.telephony import operations
from grc.text import storable

log = logging.getLogger(__name__)
blp = Blueprint("voice_webhooks", __name__, url_prefix="/webhooks/twilio/voice")

MAX_SID = 64
# A day: more than any call lasts, less than an integer column holds.
MAX_SECONDS = 24 * 3600


class _BadField(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _bad_request(error: _BadField) -> Response:
    return error_response(
        HTTPStatus.BAD_REQUEST,
        f"The callback's {error.field} is missing or invalid.",
        {"form": {error.field: [error.message]}},
    )


def _required(form: Mapping[str, str], name: str, max_length: int) -> str:
    value = storable(form.get(name, "")).strip()
    if not value:
        raise _BadField(name, "Missing data for required field.")
    if len(value) > max_length:
        raise _BadField(name, f"Longer than {max_length} characters.")
    return value


def _seconds(form: Mapping[str, str], name: str) -> int | None:
    raw = form.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > MAX_SECONDS:
        raise _BadField(name, f"Not a number of seconds between 0 and {MAX_SECONDS}.")
    return int(raw)


def _twiml(root: ET.Element) -> Response:
    # Built as a tree: the queue name and URL are escaped by the serialiser, whatever they hold.
    return Response(ET.tostring(root, encoding="UTF-8", xml_declaration=True), mimetype="text/xml")


def _public_url_for(endpoint: str) -> str:
    # The URL Twilio will call back, as it will sign it: on the public base when configured.
    path = url_for(endpoint)
    return public_base_url() + path.removeprefix(request.script_root)


@blp.post("")
def incoming_call() -> Response:
    """A tenant calls: record the call and put it in the call centre's queue."""
    if not twilio_request_authentic():
        return refused()
    try:
        call_sid = _required(request.form, "CallSid", MAX_SID)
    except _BadField as error:
        return _bad_request(error)
    operations.receive_call(
        db.session, call_sid, request.form.get("From"), request.form.get("To"), utcnow()
    )
    db.session.commit()
    # A repeated webhook is a call still to be answered: it is queued again, recorded once.
    root = ET.Element("Response")
    enqueue = ET.SubElement(root, "Enqueue", action=_public_url_for(".queue_result"), method="POST")
    enqueue.text = settings().call_queue
    return _twiml(root)


@blp.post("/queue")
def queue_result() -> Response:
    """<Enqueue>'s action: the call left the queue (answered, hung up, queue full…)."""
    if not twilio_request_authentic():
        return refused()
    try:
        call_sid = _required(request.form, "CallSid", MAX_SID)
        result = _required(request.form, "QueueResult", 32)
        wait = _seconds(request.form, "QueueTime")
    except _BadField as error:
        return _bad_request(error)
    operations.record_queue_result(db.session, call_sid, result, wait, utcnow())
    db.session.commit()
    # What the caller hears next: nothing, the call ends (bridged calls already have).
    root = ET.Element("Response")
    ET.SubElement(root, "Hangup")
    return _twiml(root)


@blp.post("/status")
def call_status() -> Response | tuple[str, int]:
    """The call's status callback: how it ended and how long it lasted."""
    if not twilio_request_authentic():
        return refused()
    try:
        call_sid = _required(request.form, "CallSid", MAX_SID)
        status = _required(request.form, "CallStatus", 20)
        duration = _seconds(request.form, "CallDuration")
    except _BadField as error:
        return _bad_request(error)
    operations.record_call_status(db.session, call_sid, status, duration, utcnow())
    db.session.commit()
    return "", HTTPStatus.NO_CONTENT
