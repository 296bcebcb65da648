"""Provider webhooks: authenticate them and turn them into plain values. No Flask here.

The web layer reads the request (URL, form, raw body, headers), calls a ``verify_*``
function, answers 403 when it returns False, and hands the parsed values to an operation.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec
from sendgrid.helpers.eventwebhook import EventWebhook
from twilio.request_validator import RequestValidator

__all__ = [
    "SENDGRID_SIGNATURE_HEADER",
    "SENDGRID_TIMESTAMP_HEADER",
    "TWILIO_SIGNATURE_HEADER",
    "DeliveryStatus",
    "DeliveryUpdate",
    "InboundSms",
    "is_start_keyword",
    "is_stop_keyword",
    "parse_sendgrid_events",
    "parse_twilio_inbound",
    "parse_twilio_status",
    "verify_sendgrid_event",
    "verify_twilio_request",
]

TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"
SENDGRID_SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"

DeliveryStatus = Literal["queued", "sent", "delivered", "failed", "undelivered"]


@dataclass(frozen=True)
class DeliveryUpdate:
    """A provider's news about one message we sent.

    ``provider_id`` is the id returned at send time (Twilio SID, SendGrid X-Message-Id);
    ``message_key`` is our outbox key when the provider echoed it, which also resolves
    sends that ended in ``UnknownOutcomeError``. Statuses follow Twilio's vocabulary:
    ``failed`` means never sent, ``undelivered`` sent but refused downstream.
    """

    provider: str
    provider_id: str
    status: DeliveryStatus
    error_code: str | None
    message_key: str | None
    occurred_at: datetime | None


@dataclass(frozen=True)
class InboundSms:
    """An SMS a tenant or contractor sent to one of our numbers."""

    from_number: str
    to_number: str
    body: str
    provider_id: str


# --- Twilio -------------------------------------------------------------------------------

_TWILIO_STATUSES: dict[str, DeliveryStatus] = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}


def verify_twilio_request(
    url: str, params: Mapping[str, str], signature: str | None, auth_token: str
) -> bool:
    """True if ``signature`` (the X-Twilio-Signature header) signs ``url`` + ``params``.

    ``url`` must be the public URL Twilio called, query string included: behind a proxy
    that terminates TLS, rebuild it from the configured public base URL, not from what the
    app sees (``http://internal:8000/…`` would never validate). ``params`` are the POST form
    fields (a Werkzeug ``MultiDict`` works, repeated fields included).
    """
    if not signature or not auth_token:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))


def parse_twilio_status(params: Mapping[str, str]) -> DeliveryUpdate:
    """Parse a Twilio message status callback.

    ``message_key`` is read from ``params`` too: pass the form merged with the callback
    URL's query string (Flask's ``request.values``), since ``TwilioSmsSender`` puts the key
    there. Raises ``ValueError`` for a callback without SID or with a status that is not
    about an outgoing message; the caller should log it and still answer 2xx, or Twilio
    will retry a callback that can never succeed.
    """
    sid = (params.get("MessageSid") or params.get("SmsSid") or "").strip()
    raw_status = (params.get("MessageStatus") or params.get("SmsStatus") or "").strip().lower()
    if not sid:
        raise ValueError("Twilio status callback without MessageSid")
    status = _TWILIO_STATUSES.get(raw_status)
    if status is None:
        raise ValueError(f"Twilio status callback with unknown MessageStatus {raw_status!r}")
    return DeliveryUpdate(
        provider="twilio",
        provider_id=sid,
        status=status,
        error_code=(params.get("ErrorCode") or "").strip() or None,
        message_key=(params.get("message_key") or "").strip() or None,
        occurred_at=_twilio_dlr_date(params.get("RawDlrDoneDate")),
    )


def _twilio_dlr_date(value: str | None) -> datetime | None:
    """``RawDlrDoneDate`` (``YYMMDDhhmm``, UTC, carrier's report time) when present."""
    if not value or not re.fullmatch(r"\d{10}", value.strip()):
        return None
    try:
        return datetime.strptime(value.strip(), "%y%m%d%H%M").replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_twilio_inbound(params: Mapping[str, str]) -> InboundSms:
    """Parse an incoming-message webhook; ``ValueError`` without MessageSid or From."""
    sid = (params.get("MessageSid") or params.get("SmsSid") or "").strip()
    sender = (params.get("From") or "").strip()
    if not sid or not sender:
        raise ValueError("Twilio inbound message without MessageSid or From")
    return InboundSms(
        from_number=sender,
        to_number=(params.get("To") or "").strip(),
        body=params.get("Body") or "",
        provider_id=sid,
    )


# Twilio's default opt-out keywords (plus the 2025 additions REVOKE and OPTOUT) and the
# French ones our tenants actually type. Compared without case, accents or spaces.
_STOP_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
    | {"ARRET", "STOPSMS", "ARRETSMS"}
)
# Twilio's default opt-in keywords.
_START_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})


def _keyword(body: str) -> str:
    """Upper case, accents and whitespace removed, surrounding punctuation dropped."""
    decomposed = unicodedata.normalize("NFKD", body)
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    squeezed = "".join(letters.split()).upper()
    return squeezed.strip(".!?,;:-_'\"")


def is_stop_keyword(body: str) -> bool:
    """True if the whole message is an opt-out keyword ("Stop", "ARRÊT", "stop sms"…).

    Only the whole message counts, as at Twilio: "je ne veux pas que ça s'arrête" is not
    an opt-out.
    """
    return _keyword(body) in _STOP_KEYWORDS


def is_start_keyword(body: str) -> bool:
    """True if the whole message is an opt-in keyword (START, YES, UNSTOP)."""
    return _keyword(body) in _START_KEYWORDS


# --- SendGrid -----------------------------------------------------------------------------

_SENDGRID_EVENTS: dict[str, DeliveryStatus] = {
    "processed": "queued",
    "deferred": "sent",  # handed on, the receiving server asked to try later
    "delivered": "delivered",
    "bounce": "undelivered",
    "dropped": "failed",
}


def verify_sendgrid_event(
    public_key: str,
    payload: bytes,
    signature: str | None,
    timestamp: str | None,
    max_age_seconds: int = 600,
    now: float | None = None,
) -> bool:
    """True if the Event Webhook request is signed by SendGrid and recent.

    SendGrid signs ``timestamp + raw body`` with ECDSA P-256/SHA-256; ``public_key`` is the
    base64 verification key shown in SendGrid's settings (a PEM block is accepted too).
    ``payload`` must be the raw body, byte for byte. A timestamp further than
    ``max_age_seconds`` from ``now`` (either way) is refused so that a captured request
    cannot be replayed later. An unusable ``public_key`` raises ``ValueError``: that is a
    configuration error, not a forged request.
    """
    if not signature or not timestamp:
        return False
    try:
        sent_at = int(timestamp.strip())
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > max_age_seconds:
        return False
    try:
        body = payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    webhook = _event_webhook(public_key)
    try:
        return bool(webhook.verify_signature(body, signature.strip(), timestamp.strip()))
    except (InvalidSignature, ValueError, binascii.Error):
        # Not base64, not a DER signature: not signed by SendGrid either.
        return False


def _event_webhook(public_key: str) -> EventWebhook:
    """The SDK verifier for ``public_key`` (base64 DER or PEM); ``ValueError`` if unusable."""
    key = "".join(
        line.strip()
        for line in public_key.strip().splitlines()
        if line.strip() and not line.strip().startswith("-----")
    )
    try:
        base64.b64decode(key, validate=True)
        webhook = EventWebhook(key)
    except (ValueError, binascii.Error, UnsupportedAlgorithm) as exc:
        raise ValueError("SendGrid event webhook public key is not a valid key") from exc
    if not isinstance(webhook.public_key, ec.EllipticCurvePublicKey):
        raise ValueError("SendGrid event webhook public key is not an elliptic-curve key")
    return webhook


def parse_sendgrid_events(payload: bytes) -> list[DeliveryUpdate]:
    """Delivery updates in an Event Webhook body (a JSON array of events).

    Only the events that move a message's delivery state are kept (processed, deferred,
    delivered, bounce, dropped); opens, clicks and others are skipped. The provider id is
    ``sg_message_id`` up to its first dot, which is the ``X-Message-Id`` returned at send
    time; ``message_key`` is our custom argument, echoed as a top-level field.
    Raises ``ValueError`` if the body is not a JSON array: a malformed body is an error the
    caller should see (and answer 400), not an empty batch.
    """
    try:
        events = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("SendGrid event payload is not valid JSON") from exc
    if not isinstance(events, list):
        raise ValueError("SendGrid event payload is not a JSON array")
    updates = []
    for event in events:
        if isinstance(event, dict) and (update := _sendgrid_update(event)) is not None:
            updates.append(update)
    return updates


def _sendgrid_update(event: dict[str, Any]) -> DeliveryUpdate | None:
    status = _SENDGRID_EVENTS.get(str(event.get("event", "")))
    if status is None:
        return None
    provider_id = str(event.get("sg_message_id") or "").split(".", 1)[0]
    message_key = str(event.get("message_key") or "") or None
    if not provider_id and not message_key:
        return None
    error_code = None
    if status in ("undelivered", "failed"):
        # bounce: SMTP enhanced status ("5.1.1"); dropped: SendGrid's reason
        # ("Bounced Address", "Unsubscribed Address"…).
        error_code = str(event.get("status") or event.get("reason") or event.get("type") or "")
        error_code = error_code[:100] or None
    return DeliveryUpdate(
        provider="sendgrid",
        provider_id=provider_id,
        status=status,
        error_code=error_code,
        message_key=message_key,
        occurred_at=_unix_time(event.get("timestamp")),
    )


def _unix_time(value: object) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError, OSError):
        return None
