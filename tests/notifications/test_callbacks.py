"""Webhook authentication and parsing, with real signatures (Twilio HMAC, SendGrid ECDSA)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from twilio.request_validator import RequestValidator

from notifications.callbacks import (
    DeliveryUpdate,
    InboundSms,
    is_start_keyword,
    is_stop_keyword,
    parse_sendgrid_events,
    parse_twilio_inbound,
    parse_twilio_status,
    verify_sendgrid_event,
    verify_twilio_request,
)

# --- Twilio signatures --------------------------------------------------------------------

TOKEN = "12345678901234567890123456789012"
URL = "https://grc.example.fr/webhooks/twilio/status?message_key=outbox-42"
PARAMS = {
    "MessageSid": "SM" + "b" * 32,
    "MessageStatus": "delivered",
    "AccountSid": "AC" + "c" * 32,
    "To": "+33612345678",
    "From": "+33700000001",
}


def twilio_signature(url: str = URL, params: dict[str, str] = PARAMS, token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def test_twilio_valid_signature() -> None:
    assert verify_twilio_request(URL, PARAMS, twilio_signature(), TOKEN)


def test_twilio_signature_with_another_token_is_refused() -> None:
    assert not verify_twilio_request(URL, PARAMS, twilio_signature(token="x" * 32), TOKEN)


def test_twilio_tampered_param_is_refused() -> None:
    tampered = {**PARAMS, "MessageStatus": "failed"}
    assert not verify_twilio_request(URL, tampered, twilio_signature(), TOKEN)


def test_twilio_added_param_is_refused() -> None:
    extended = {**PARAMS, "ErrorCode": "30008"}
    assert not verify_twilio_request(URL, extended, twilio_signature(), TOKEN)


@pytest.mark.parametrize("signature", [None, ""])
def test_twilio_missing_signature_is_refused(signature: str | None) -> None:
    assert not verify_twilio_request(URL, PARAMS, signature, TOKEN)


def test_twilio_empty_token_refuses_everything() -> None:
    assert not verify_twilio_request(URL, PARAMS, twilio_signature(token=""), "")


@pytest.mark.parametrize(
    "seen_url",
    [
        # What the app sees behind a TLS-terminating proxy: it must rebuild the public URL.
        "http://grc.example.fr/webhooks/twilio/status?message_key=outbox-42",
        "http://10.0.0.5:8000/webhooks/twilio/status?message_key=outbox-42",
        "https://grc.example.fr/webhooks/twilio/status",  # query string lost
    ],
)
def test_twilio_url_must_be_the_public_one(seen_url: str) -> None:
    assert not verify_twilio_request(seen_url, PARAMS, twilio_signature(), TOKEN)


def test_twilio_explicit_default_port_still_validates() -> None:
    # Twilio may or may not include :443 when signing; the SDK accepts both.
    with_port = URL.replace("grc.example.fr", "grc.example.fr:443")
    assert verify_twilio_request(with_port, PARAMS, twilio_signature(), TOKEN)


def test_twilio_repeated_fields_from_a_multidict() -> None:
    class MultiDict(dict[str, str]):
        """Werkzeug-style: ``getlist`` returns every value of a repeated field."""

        def getlist(self, key: str) -> list[str]:
            return ["a", "b"] if key == "MediaUrl" else [self[key]]

    form = MultiDict({**PARAMS, "MediaUrl": "a"})
    signed = RequestValidator(TOKEN).compute_signature(URL, form)

    assert verify_twilio_request(URL, form, signed, TOKEN)
    assert not verify_twilio_request(URL, {**PARAMS, "MediaUrl": "a"}, signed, TOKEN)


# --- Twilio parsing -----------------------------------------------------------------------


def test_parse_twilio_status_delivered() -> None:
    update = parse_twilio_status({**PARAMS, "message_key": "outbox-42"})

    assert update == DeliveryUpdate(
        provider="twilio",
        provider_id="SM" + "b" * 32,
        status="delivered",
        error_code=None,
        message_key="outbox-42",
        occurred_at=None,
    )


def test_parse_twilio_status_undelivered_with_error_and_carrier_date() -> None:
    update = parse_twilio_status(
        {
            **PARAMS,
            "MessageStatus": "undelivered",
            "ErrorCode": "30005",
            "RawDlrDoneDate": "2405141530",
        }
    )

    assert update.status == "undelivered"
    assert update.error_code == "30005"
    assert update.message_key is None
    assert update.occurred_at == datetime(2024, 5, 14, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("accepted", "queued"),
        ("queued", "queued"),
        ("sending", "sent"),
        ("sent", "sent"),
        ("delivered", "delivered"),
        ("read", "delivered"),
        ("failed", "failed"),
        ("canceled", "failed"),
        ("undelivered", "undelivered"),
    ],
)
def test_parse_twilio_status_vocabulary(raw: str, status: str) -> None:
    assert parse_twilio_status({**PARAMS, "MessageStatus": raw}).status == status


def test_parse_twilio_status_accepts_the_legacy_sms_fields() -> None:
    update = parse_twilio_status({"SmsSid": "SM1", "SmsStatus": "sent"})
    assert (update.provider_id, update.status) == ("SM1", "sent")


@pytest.mark.parametrize(
    "params",
    [
        {"MessageStatus": "delivered"},
        {"MessageSid": "SM1"},
        {"MessageSid": "SM1", "MessageStatus": "received"},  # inbound, not a status
        {"MessageSid": "SM1", "MessageStatus": "exploded"},
    ],
)
def test_parse_twilio_status_refuses_what_it_cannot_use(params: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="Twilio status callback"):
        parse_twilio_status(params)


def test_parse_twilio_inbound() -> None:
    params = {
        "MessageSid": "SM" + "d" * 32,
        "From": "+33612345678",
        "To": "+33700000001",
        "Body": "Arrêt",
    }
    assert parse_twilio_inbound(params) == InboundSms(
        from_number="+33612345678",
        to_number="+33700000001",
        body="Arrêt",
        provider_id="SM" + "d" * 32,
    )
    with pytest.raises(ValueError, match="inbound"):
        parse_twilio_inbound({"Body": "hello"})


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        " Stop ",
        "Stop.",
        "STOPALL",
        "unsubscribe",
        "Cancel",
        "END",
        "quit",
        "ARRET",
        "Arrêt",
        "arrêt !",
        "STOP SMS",
        "stop  sms",
        "StopSMS",
        "Stop\nSMS",
    ],
)
def test_stop_keywords(body: str) -> None:
    assert is_stop_keyword(body)
    assert not is_start_keyword(body)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "Merci, le plombier est passé",
        "stop the noise upstairs",
        "je ne veux pas que ça s'arrête",
        "STOPPER",
        "START",
    ],
)
def test_not_stop_keywords(body: str) -> None:
    assert not is_stop_keyword(body)


@pytest.mark.parametrize("body", ["START", "start", " Yes ", "UNSTOP", "unstop."])
def test_start_keywords(body: str) -> None:
    assert is_start_keyword(body)
    assert not is_stop_keyword(body)


@pytest.mark.parametrize("body", ["oui", "ARRET", "starting soon", ""])
def test_not_start_keywords(body: str) -> None:
    assert not is_start_keyword(body)


# --- SendGrid signatures ------------------------------------------------------------------

NOW = 1_715_700_000
EVENTS = [
    {
        "email": "locataire@example.fr",
        "timestamp": NOW - 5,
        "event": "delivered",
        "sg_event_id": "ZGVsaXZlcmVk",
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        "message_key": "outbox-17",
        "response": "250 OK",
    }
]
PAYLOAD = json.dumps(EVENTS).encode()


def public_key_b64(private_key: ec.EllipticCurvePrivateKey) -> str:
    """The key as SendGrid shows it: base64 of the DER SubjectPublicKeyInfo."""
    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def sign(private_key: ec.EllipticCurvePrivateKey, timestamp: str, payload: bytes) -> str:
    """What SendGrid does: ECDSA P-256 / SHA-256 over timestamp + body, base64 DER."""
    signature = private_key.sign(timestamp.encode() + payload, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode()


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def test_sendgrid_valid_signature(key: ec.EllipticCurvePrivateKey) -> None:
    timestamp = str(NOW)
    signature = sign(key, timestamp, PAYLOAD)

    assert verify_sendgrid_event(public_key_b64(key), PAYLOAD, signature, timestamp, now=NOW)


def test_sendgrid_pem_public_key_is_accepted(key: ec.EllipticCurvePrivateKey) -> None:
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    signature = sign(key, str(NOW), PAYLOAD)

    assert verify_sendgrid_event(pem, PAYLOAD, signature, str(NOW), now=NOW)


def test_sendgrid_tampered_payload_is_refused(key: ec.EllipticCurvePrivateKey) -> None:
    signature = sign(key, str(NOW), PAYLOAD)
    tampered = PAYLOAD.replace(b"delivered", b"bounce")

    assert not verify_sendgrid_event(public_key_b64(key), tampered, signature, str(NOW), now=NOW)


def test_sendgrid_timestamp_is_part_of_the_signature(key: ec.EllipticCurvePrivateKey) -> None:
    signature = sign(key, str(NOW), PAYLOAD)

    assert not verify_sendgrid_event(public_key_b64(key), PAYLOAD, signature, str(NOW + 1), now=NOW)


def test_sendgrid_wrong_key_is_refused(key: ec.EllipticCurvePrivateKey) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    signature = sign(other, str(NOW), PAYLOAD)

    assert not verify_sendgrid_event(public_key_b64(key), PAYLOAD, signature, str(NOW), now=NOW)


@pytest.mark.parametrize(
    ("signature", "timestamp"),
    [(None, str(NOW)), ("", str(NOW)), ("sig", None), ("sig", ""), (None, None)],
)
def test_sendgrid_missing_headers_are_refused(
    key: ec.EllipticCurvePrivateKey, signature: str | None, timestamp: str | None
) -> None:
    if signature == "sig":
        signature = sign(key, str(NOW), PAYLOAD)
    assert not verify_sendgrid_event(public_key_b64(key), PAYLOAD, signature, timestamp, now=NOW)


@pytest.mark.parametrize("age", [601, -601, 86_400])
def test_sendgrid_stale_or_future_timestamp_is_refused(
    key: ec.EllipticCurvePrivateKey, age: int
) -> None:
    timestamp = str(NOW - age)
    signature = sign(key, timestamp, PAYLOAD)  # genuinely signed, but replayed

    assert not verify_sendgrid_event(public_key_b64(key), PAYLOAD, signature, timestamp, now=NOW)
    assert verify_sendgrid_event(public_key_b64(key), PAYLOAD, signature, timestamp, now=NOW - age)


def test_sendgrid_age_limit_is_configurable(key: ec.EllipticCurvePrivateKey) -> None:
    timestamp = str(NOW - 100)
    signature = sign(key, timestamp, PAYLOAD)
    public = public_key_b64(key)

    assert verify_sendgrid_event(public, PAYLOAD, signature, timestamp, now=NOW)
    assert not verify_sendgrid_event(
        public, PAYLOAD, signature, timestamp, max_age_seconds=60, now=NOW
    )


def test_sendgrid_default_clock_is_now(key: ec.EllipticCurvePrivateKey) -> None:
    timestamp = str(int(datetime.now(UTC).timestamp()))
    signature = sign(key, timestamp, PAYLOAD)

    assert verify_sendgrid_event(public_key_b64(key), PAYLOAD, signature, timestamp)
    assert not verify_sendgrid_event(
        public_key_b64(key), PAYLOAD, sign(key, str(NOW), PAYLOAD), str(NOW)
    )


@pytest.mark.parametrize(
    ("signature", "timestamp", "payload"),
    [
        ("not base64 !!", str(NOW), PAYLOAD),
        (base64.b64encode(b"not a DER signature").decode(), str(NOW), PAYLOAD),
        ("c2ln", "yesterday", PAYLOAD),
        ("c2ln", str(NOW), b"\xff\xfe not utf-8"),
    ],
)
def test_sendgrid_garbage_is_refused_not_raised(
    key: ec.EllipticCurvePrivateKey, signature: str, timestamp: str, payload: bytes
) -> None:
    assert not verify_sendgrid_event(public_key_b64(key), payload, signature, timestamp, now=NOW)


def test_sendgrid_unusable_public_key_is_a_configuration_error(
    key: ec.EllipticCurvePrivateKey,
) -> None:
    signature = sign(key, str(NOW), PAYLOAD)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_public = base64.b64encode(
        rsa_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).decode()

    for public_key in ("not a key", "QUJD", rsa_public):
        with pytest.raises(ValueError, match="public key"):
            verify_sendgrid_event(public_key, PAYLOAD, signature, str(NOW), now=NOW)


# --- SendGrid parsing ---------------------------------------------------------------------


def test_parse_sendgrid_events() -> None:
    payload = json.dumps(
        [
            {**EVENTS[0], "event": "processed", "timestamp": NOW - 60},
            {**EVENTS[0], "event": "deferred", "timestamp": NOW - 30},
            EVENTS[0],
            {
                "event": "bounce",
                "timestamp": NOW,
                "sg_message_id": "abc123.filter0002.1.2.0",
                "message_key": "outbox-18",
                "status": "5.1.1",
                "type": "bounce",
                "reason": "550 5.1.1 user unknown",
            },
            {
                "event": "dropped",
                "timestamp": NOW,
                "sg_message_id": "def456.filter0003.1.2.0",
                "message_key": "outbox-19",
                "reason": "Unsubscribed Address",
            },
            {"event": "open", "timestamp": NOW, "sg_message_id": "x.y", "message_key": "k"},
            {"event": "click", "timestamp": NOW, "sg_message_id": "x.y", "url": "https://x"},
        ]
    ).encode()

    updates = parse_sendgrid_events(payload)

    assert [(u.provider_id, u.status, u.error_code, u.message_key) for u in updates] == [
        ("14c5d75ce93", "queued", None, "outbox-17"),
        ("14c5d75ce93", "sent", None, "outbox-17"),
        ("14c5d75ce93", "delivered", None, "outbox-17"),
        ("abc123", "undelivered", "5.1.1", "outbox-18"),
        ("def456", "failed", "Unsubscribed Address", "outbox-19"),
    ]
    assert {u.provider for u in updates} == {"sendgrid"}
    assert updates[2].occurred_at == datetime.fromtimestamp(NOW - 5, UTC)


def test_parse_sendgrid_event_without_our_key_or_id() -> None:
    payload = json.dumps(
        [
            {"event": "delivered", "timestamp": NOW, "sg_message_id": "only.id"},
            {"event": "delivered", "timestamp": NOW, "message_key": "only-key"},
            {"event": "delivered", "timestamp": NOW},  # nothing to match it with: skipped
            "not an event",
            {"event": "delivered", "sg_message_id": "no.time", "timestamp": "soon"},
        ]
    ).encode()

    updates = parse_sendgrid_events(payload)

    assert [(u.provider_id, u.message_key) for u in updates] == [
        ("only", None),
        ("", "only-key"),
        ("no", None),
    ]
    assert updates[2].occurred_at is None


def test_parse_sendgrid_empty_batch() -> None:
    assert parse_sendgrid_events(b"[]") == []


@pytest.mark.parametrize(
    "payload",
    [b"", b"not json", b"[{", b"\xff\xfe", b'{"event": "delivered"}', b"null", b"42"],
)
def test_parse_sendgrid_garbage_raises_value_error(payload: bytes) -> None:
    with pytest.raises(ValueError, match="SendGrid event payload"):
        parse_sendgrid_events(payload)
