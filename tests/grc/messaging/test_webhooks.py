"""Provider callbacks through the real endpoints: Twilio status and inbound SMS, SendGrid's
signed Event Webhook. Each is signed as the provider signs it, against an application that
has credentials and a public URL; messages reach the in-memory sender."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from grc.claims.models import ClaimEvent, EventKind
from grc.extensions import db
from grc.messaging.models import (
    DeliveryStatus,
    InboundSms,
    InboundSmsOutcome,
    MessageChannel,
    OutboxMessage,
    Purpose,
)
from grc.people.models import Channel, Tenant
from notifications.memory import MemorySender
from tests.grc.messaging.provider_apps import (
    PUBLIC_URL,
    TWILIO_FROM,
    EventWebhookKey,
    Site,
    configured_app,
    open_site,
    outbox,
    reload,
    sendgrid_payload,
    twilio_signature,
)
from workers.senders import set_senders

TOKEN = "secret-token"
ACCOUNT_SID = "AC" + "0" * 32
TENANT_NUMBER = "+33612345678"  # TIL-11, "06 12 34 56 78"
STATUS_PATH = "/webhooks/twilio/status"
INBOUND_PATH = "/webhooks/twilio/inbound"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@pytest.fixture(scope="module")
def event_key() -> EventWebhookKey:
    return EventWebhookKey()


@pytest.fixture
def make_site(
    app: Flask, app_ctx: Flask, event_key: EventWebhookKey, tmp_path
) -> Iterator[Callable[..., Site]]:
    """Build the configured application (credentials unless overridden), with the in-memory
    sender as both senders and a landlord in its database."""
    with ExitStack() as stack:

        def make(**overrides: Any) -> Site:
            settings = {
                "twilio_account_sid": ACCOUNT_SID,
                "twilio_auth_token": TOKEN,
                "twilio_from_number": TWILIO_FROM,
                "sendgrid_event_public_key": event_key.public_key,
                "public_url": PUBLIC_URL,
                "instance_path": str(tmp_path),
            } | overrides
            application = stack.enter_context(configured_app(app, **settings))
            memory = MemorySender()
            set_senders(application, memory, memory)
            return open_site(application)

        yield make


@pytest.fixture
def site(make_site: Callable[..., Site]) -> Site:
    return make_site()


def _memory(site: Site) -> MemorySender:
    return site.app.extensions["grc_senders"][0]


def _acknowledgement(site: Site, dwelling: str = "TIL-11") -> OutboxMessage:
    """Create a claim through the API; its acknowledgement leaves by the memory sender."""
    claim = site.create_claim(dwelling)
    [message] = outbox(claim_id=claim["id"], purpose=Purpose.ACKNOWLEDGEMENT)
    assert message.status == DeliveryStatus.SENT
    return message


def _tenant(site: Site, dwelling: str = "TIL-11") -> Tenant:
    db.session.expire_all()
    return db.session.get(Tenant, site.world.tenants[dwelling].id)


# --- Twilio status callbacks -------------------------------------------------------------


def _status_params(message: OutboxMessage, status: str, **extra: str) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "From": TWILIO_FROM,
        "MessageSid": message.provider_id or "SM" + "f" * 32,
        "MessageStatus": status,
        "SmsSid": message.provider_id or "SM" + "f" * 32,
        "SmsStatus": status,
        "To": message.recipient,
        **extra,
    }


def _status_query(message: OutboxMessage) -> str:
    return f"{STATUS_PATH}?message_key=grc-outbox-{message.id}"


def _post_status(
    site: Site,
    message: OutboxMessage,
    params: dict[str, str],
    *,
    signed_url: str | None = None,
    token: str = TOKEN,
    sign: bool = True,
    headers: dict[str, str] | None = None,
):
    path = _status_query(message)
    extra = dict(headers or {})
    if sign:
        extra["X-Twilio-Signature"] = twilio_signature(
            token, signed_url or f"{PUBLIC_URL}{path}", params
        )
    return site.client.post(path, data=params, headers=extra)


def test_status_callback_signed_for_the_public_url_marks_delivered(site, caplog):
    message = _acknowledgement(site)
    assert message.channel == MessageChannel.SMS
    caplog.set_level(logging.INFO, logger="grc.messaging.webhooks")
    params = _status_params(message, "delivered", RawDlrDoneDate="2603101015")

    answers = [_post_status(site, message, params).status_code for _ in range(3)]

    assert answers == [204, 204, 204]
    delivered = reload(message)
    assert delivered.status == DeliveryStatus.DELIVERED
    assert delivered.provider_status == "delivered"
    # The carrier's report time, and it stays the first one: repeats change nothing.
    assert delivered.delivered_at == datetime(2026, 3, 10, 10, 15, tzinfo=UTC)
    changes = [r.getMessage() for r in caplog.records if "twilio status" in r.getMessage()]
    assert [c.endswith("(changed=True)") for c in changes] == [True, False, False]


def test_the_same_status_callback_three_times_at_once_changes_the_record_once(site, caplog):
    """Three threads post one signed callback together, each request with its own
    application context and session: the conditional update lets exactly one change it."""
    message = _acknowledgement(site)
    caplog.set_level(logging.INFO, logger="grc.messaging.webhooks")
    params = _status_params(message, "delivered", RawDlrDoneDate="2603101015")
    path = _status_query(message)
    headers = {"X-Twilio-Signature": twilio_signature(TOKEN, f"{PUBLIC_URL}{path}", params)}
    barrier = threading.Barrier(3)
    answers: list[int] = []

    def post() -> None:
        client = site.app.test_client()
        barrier.wait()
        answers.append(client.post(path, data=params, headers=headers).status_code)

    threads = [threading.Thread(target=post) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert answers == [204, 204, 204]
    changes = [r.getMessage() for r in caplog.records if "twilio status" in r.getMessage()]
    assert sorted(c.endswith("(changed=True)") for c in changes) == [False, False, True]
    delivered = reload(message)
    assert (delivered.status, delivered.provider_status) == (DeliveryStatus.DELIVERED, "delivered")
    assert delivered.delivered_at == datetime(2026, 3, 10, 10, 15, tzinfo=UTC)


def test_repeated_status_callback_keeps_the_first_delivery_time(site):
    message = _acknowledgement(site)
    params = _status_params(message, "delivered")  # no carrier time: the time of arrival
    assert _post_status(site, message, params).status_code == 204
    first = reload(message).delivered_at
    assert first is not None
    time.sleep(0.01)
    assert _post_status(site, message, params).status_code == 204
    assert _post_status(site, message, params).status_code == 204
    assert reload(message).delivered_at == first
    # A late "sent" does not take the record backwards either.
    assert _post_status(site, message, _status_params(message, "sent")).status_code == 204
    assert reload(message).status == DeliveryStatus.DELIVERED


@pytest.mark.parametrize(("status", "code"), [("failed", "30008"), ("undelivered", "30003")])
def test_failed_status_with_error_code_marks_failed(site, status, code):
    message = _acknowledgement(site)
    params = _status_params(message, status, ErrorCode=code)
    assert _post_status(site, message, params).status_code == 204
    failed = reload(message)
    assert failed.status == DeliveryStatus.FAILED
    assert failed.failed_at is not None
    assert failed.last_error == f"twilio: {status} ({code})"
    assert code in failed.last_error


def _unchanged(message: OutboxMessage) -> None:
    current = reload(message)
    assert current.status == DeliveryStatus.SENT
    assert current.provider_status is None
    assert current.delivered_at is None


@pytest.mark.parametrize(
    "forgery",
    ["wrong_token", "no_header", "signed_for_localhost", "tampered_form", "other_message_key"],
)
def test_forged_status_callbacks_are_refused(site, forgery):
    message = _acknowledgement(site)
    params = _status_params(message, "delivered")
    if forgery == "wrong_token":
        response = _post_status(site, message, params, token="not-the-token")
    elif forgery == "no_header":
        response = _post_status(site, message, params, sign=False)
    elif forgery == "signed_for_localhost":
        # What the app sees behind the proxy; Twilio signed the public URL.
        url = f"http://localhost{_status_query(message)}"
        response = _post_status(site, message, params, signed_url=url)
    elif forgery == "tampered_form":
        signature = twilio_signature(TOKEN, f"{PUBLIC_URL}{_status_query(message)}", params)
        response = site.client.post(
            _status_query(message),
            data=params | {"MessageStatus": "failed", "SmsStatus": "failed"},
            headers={"X-Twilio-Signature": signature},
        )
    else:  # a genuine signature for another row's URL, replayed against this one
        other_url = f"{PUBLIC_URL}{STATUS_PATH}?message_key=grc-outbox-{message.id + 1}"
        response = _post_status(site, message, params, signed_url=other_url)
    assert response.status_code == 403
    assert response.json["message"]
    _unchanged(message)


def test_status_callback_refused_without_a_twilio_token(make_site):
    site = make_site(twilio_account_sid=None, twilio_auth_token=None, twilio_from_number=None)
    message = _acknowledgement(site)
    response = _post_status(site, message, _status_params(message, "delivered"))
    assert response.status_code == 403
    _unchanged(message)


def test_behind_a_proxy_the_forwarded_url_is_checked(make_site):
    site = make_site(proxy_fix=True, public_url=None)
    message = _acknowledgement(site)
    params = _status_params(message, "delivered")
    signed_url = f"https://grc.example.fr{_status_query(message)}"

    direct = _post_status(site, message, params, signed_url=signed_url)
    assert direct.status_code == 403  # seen as http://localhost/…: not what Twilio signed
    _unchanged(message)

    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "grc.example.fr"}
    wrong_host = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example.com"}
    assert (
        _post_status(site, message, params, signed_url=signed_url, headers=wrong_host).status_code
        == 403
    )
    _unchanged(message)

    accepted = _post_status(site, message, params, signed_url=signed_url, headers=forwarded)
    assert accepted.status_code == 204
    assert reload(message).status == DeliveryStatus.DELIVERED


@pytest.mark.parametrize("params", [{"MessageStatus": "receiving"}, {"MessageSid": ""}])
def test_signed_status_callback_that_cannot_apply_is_acknowledged(site, params):
    """callbacks.parse_twilio_status: a callback without SID or with a status that is not
    about an outgoing message raises ValueError, and "the caller should log it and still
    answer 2xx, or Twilio will retry a callback that can never succeed"."""
    message = _acknowledgement(site)
    fields = _status_params(message, "delivered") | params
    fields["SmsStatus"], fields["SmsSid"] = fields["MessageStatus"], fields["MessageSid"]
    response = _post_status(site, message, fields)
    assert response.status_code == 204
    _unchanged(message)


# --- Twilio inbound SMS ------------------------------------------------------------------


def _message_events() -> list[ClaimEvent]:
    db.session.expire_all()
    stmt = sa.select(ClaimEvent).where(ClaimEvent.kind == EventKind.MESSAGE)
    return list(db.session.execute(stmt.order_by(ClaimEvent.id)).scalars())


def _inbound(
    site: Site,
    body: str,
    *,
    sign: bool = True,
    sender: str = TENANT_NUMBER,
    sid: str | None = None,
    client: FlaskClient | None = None,
):
    """One SMS as Twilio posts it; each call is a new SMS unless ``sid`` repeats one."""
    sid = sid or "SM" + secrets.token_hex(16)
    params = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "Body": body,
        "From": sender,
        "FromCountry": "FR",
        "MessageSid": sid,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsSid": sid,
        "SmsStatus": "received",
        "To": TWILIO_FROM,
    }
    headers = {}
    if sign:
        headers["X-Twilio-Signature"] = twilio_signature(TOKEN, PUBLIC_URL + INBOUND_PATH, params)
    return (client or site.client).post(INBOUND_PATH, data=params, headers=headers)


def _assert_empty_twiml(response) -> None:
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert response.get_data(as_text=True) == EMPTY_TWIML


@pytest.mark.parametrize("keyword", ["STOP", "Arrêt"])
def test_stop_then_start_by_sms(site, keyword):
    _assert_empty_twiml(_inbound(site, keyword))
    assert _tenant(site).sms_opt_out is True

    claim = site.create_claim()
    [message] = outbox(claim_id=claim["id"])
    tenant = _tenant(site)
    assert tenant.preferred_channel == Channel.SMS
    assert (message.channel, message.recipient) == (MessageChannel.EMAIL, tenant.email)
    memory = _memory(site)
    assert memory.sms == []
    assert [e.to for e in memory.emails] == [tenant.email]

    _assert_empty_twiml(_inbound(site, "START"))
    assert _tenant(site).sms_opt_out is False
    claim = site.create_claim()
    [message] = outbox(claim_id=claim["id"])
    assert (message.channel, message.recipient) == (MessageChannel.SMS, TENANT_NUMBER)
    assert [s.to for s in memory.sms] == [TENANT_NUMBER]


def test_stop_without_an_email_means_no_message(site):
    tenant = _tenant(site)
    tenant.email = None
    db.session.commit()
    _assert_empty_twiml(_inbound(site, "stop"))
    claim = site.create_claim()
    assert outbox(claim_id=claim["id"]) == []
    assert _memory(site).sms == []
    assert _memory(site).emails == []


def test_tenant_reply_lands_on_the_open_claim_timeline(site):
    older = site.create_claim()
    claim = site.create_claim()
    other = site.create_claim("PARC-11")  # another tenant's claim: untouched
    _assert_empty_twiml(_inbound(site, "Je serai là mardi"))

    replies = [e for e in _message_events() if (e.changes or {}).get("direction") == "in"]
    assert len(replies) == 1
    [reply] = replies
    assert reply.claim_id in (older["id"], claim["id"])
    assert reply.claim_id != other["id"]
    assert reply.body == "Je serai là mardi"
    assert reply.changes["channel"] == "sms"
    assert reply.changes["direction"] == "in"
    assert _tenant(site).sms_opt_out is False


def test_reply_without_an_open_claim_or_from_a_stranger_is_only_acknowledged(site):
    _assert_empty_twiml(_inbound(site, "Bonjour"))  # no claim yet
    _assert_empty_twiml(_inbound(site, "Bonjour", sender="+33799999999"))
    assert _message_events() == []


def _stored_sms() -> list[InboundSms]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(InboundSms).order_by(InboundSms.id)).scalars())


def test_the_same_sms_posted_again_is_filed_once(site):
    claim = site.create_claim()
    sid = "SM" + "b" * 32
    for _ in range(3):  # Twilio retrying a webhook it got no answer from
        _assert_empty_twiml(_inbound(site, "Je serai là mardi", sid=sid))

    replies = [e for e in _message_events() if (e.changes or {}).get("direction") == "in"]
    assert [(e.claim_id, e.body) for e in replies] == [(claim["id"], "Je serai là mardi")]
    [stored] = _stored_sms()
    assert (stored.message_sid, stored.outcome, stored.claim_id) == (
        sid,
        InboundSmsOutcome.FILED,
        claim["id"],
    )
    assert replies[0].changes["inbound_sms_id"] == stored.id


def test_a_repeated_stop_does_not_undo_a_later_start(site):
    stop_sid = "SM" + "c" * 32
    _assert_empty_twiml(_inbound(site, "STOP", sid=stop_sid))
    _assert_empty_twiml(_inbound(site, "START"))
    _assert_empty_twiml(_inbound(site, "STOP", sid=stop_sid))  # a late retry of the first
    assert _tenant(site).sms_opt_out is False
    assert [s.outcome for s in _stored_sms()] == [
        InboundSmsOutcome.OPTED_OUT,
        InboundSmsOutcome.OPTED_IN,
    ]


def test_the_same_sms_posted_three_times_at_once_is_filed_once(site):
    """Three identical signed posts from three threads, each request with its own
    application context and session: the unique MessageSid lets exactly one apply."""
    site.create_claim()
    sid = "SM" + "d" * 32
    barrier = threading.Barrier(3)
    statuses: list[int] = []

    def post() -> None:
        client = site.app.test_client()
        barrier.wait()
        statuses.append(_inbound(site, "Je serai là mardi", sid=sid, client=client).status_code)

    threads = [threading.Thread(target=post) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [200, 200, 200]
    replies = [e for e in _message_events() if (e.changes or {}).get("direction") == "in"]
    assert len(replies) == 1
    assert [s.message_sid for s in _stored_sms()] == [sid]


def test_an_sms_with_a_nul_byte_is_kept_without_it(site):
    claim = site.create_claim()
    _assert_empty_twiml(_inbound(site, "Je serai\x00 là mardi"))
    replies = [e for e in _message_events() if (e.changes or {}).get("direction") == "in"]
    assert [(e.claim_id, e.body) for e in replies] == [(claim["id"], "Je serai là mardi")]


def test_a_signed_sms_without_message_sid_is_a_bad_request(site):
    params = {"AccountSid": ACCOUNT_SID, "Body": "Bonjour", "From": TENANT_NUMBER}
    headers = {"X-Twilio-Signature": twilio_signature(TOKEN, PUBLIC_URL + INBOUND_PATH, params)}
    response = site.client.post(INBOUND_PATH, data=params, headers=headers)
    assert response.status_code == 400
    assert "MessageSid" in response.json["message"]
    assert _stored_sms() == []


@pytest.mark.parametrize("body", ["STOP", "Je serai là mardi"])
def test_unsigned_inbound_sms_is_refused(site, body):
    site.create_claim()
    events_before = db.session.execute(
        sa.select(sa.func.count()).select_from(ClaimEvent)
    ).scalar_one()
    response = _inbound(site, body, sign=False)
    assert response.status_code == 403
    assert _tenant(site).sms_opt_out is False
    db.session.expire_all()
    assert (
        db.session.execute(sa.select(sa.func.count()).select_from(ClaimEvent)).scalar_one()
        == events_before
    )


# --- SendGrid Event Webhook --------------------------------------------------------------

EVENTS_PATH = "/webhooks/sendgrid/events"


def _email_acknowledgement(site: Site) -> OutboxMessage:
    tenant = _tenant(site)
    tenant.preferred_channel = Channel.EMAIL
    db.session.commit()
    message = _acknowledgement(site)
    assert message.channel == MessageChannel.EMAIL
    return message


def _event(message: OutboxMessage, event: str, **extra: Any) -> dict[str, Any]:
    return {
        "email": message.recipient,
        "event": event,
        "message_key": message.message_key,  # our custom argument, echoed at the top level
        "sg_event_id": f"evt-{event}",
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
        "timestamp": 1773137700,  # 2026-03-10 10:15:00 UTC
        **extra,
    }


def _post_events(site: Site, payload: bytes, headers: dict[str, str]):
    return site.client.post(
        EVENTS_PATH, data=payload, headers=headers, content_type="application/json"
    )


def test_delivered_event_marks_delivered_once(site, event_key, caplog):
    message = _email_acknowledgement(site)
    caplog.set_level(logging.INFO, logger="grc.messaging.webhooks")
    payload = sendgrid_payload(
        _event(message, "processed", timestamp=1773137640),
        _event(message, "delivered", response="250 2.0.0 OK"),
        _event(message, "open"),  # not about delivery: skipped
    )
    answers = [_post_events(site, payload, event_key.headers(payload)) for _ in range(3)]

    assert [a.status_code for a in answers] == [204, 204, 204]
    delivered = reload(message)
    assert delivered.status == DeliveryStatus.DELIVERED
    assert delivered.provider_status == "delivered"
    assert delivered.delivered_at == datetime(2026, 3, 10, 10, 15, tzinfo=UTC)
    summaries = [r.getMessage() for r in caplog.records if "sendgrid events" in r.getMessage()]
    assert summaries == [
        "sendgrid events: 2 received, 2 applied",
        "sendgrid events: 2 received, 0 applied",
        "sendgrid events: 2 received, 0 applied",
    ]


def test_bounce_event_marks_failed(site, event_key):
    message = _email_acknowledgement(site)
    payload = sendgrid_payload(
        _event(
            message,
            "bounce",
            status="5.1.1",
            reason="550 5.1.1 The email account that you tried to reach does not exist.",
            type="bounce",
        )
    )
    assert _post_events(site, payload, event_key.headers(payload)).status_code == 204
    failed = reload(message)
    assert failed.status == DeliveryStatus.FAILED
    assert failed.failed_at == datetime(2026, 3, 10, 10, 15, tzinfo=UTC)
    assert failed.last_error == "sendgrid: undelivered (5.1.1)"
    # A later "delivered" for the same message does not revive it.
    payload = sendgrid_payload(_event(message, "delivered"))
    assert _post_events(site, payload, event_key.headers(payload)).status_code == 204
    assert reload(message).status == DeliveryStatus.FAILED


@pytest.mark.parametrize("forgery", ["tampered", "wrong_key", "stale", "future", "no_headers"])
def test_forged_event_webhooks_are_refused(site, event_key, forgery):
    message = _email_acknowledgement(site)
    payload = sendgrid_payload(_event(message, "delivered"))
    now = int(time.time())
    if forgery == "tampered":
        headers = event_key.headers(payload)
        payload = payload.replace(b'"delivered"', b'"dropped"')
    elif forgery == "wrong_key":
        headers = EventWebhookKey().headers(payload)
    elif forgery == "stale":
        headers = event_key.headers(payload, str(now - 3600))  # a captured request, replayed
    elif forgery == "future":
        headers = event_key.headers(payload, str(now + 3600))
    else:
        headers = {}
    response = _post_events(site, payload, headers)
    assert response.status_code == 403
    current = reload(message)
    assert current.status == DeliveryStatus.SENT
    assert current.provider_status is None


def test_event_webhook_refused_without_a_configured_key(make_site, event_key):
    site = make_site(sendgrid_event_public_key=None)
    message = _email_acknowledgement(site)
    payload = sendgrid_payload(_event(message, "delivered"))
    assert _post_events(site, payload, event_key.headers(payload)).status_code == 403
    assert reload(message).status == DeliveryStatus.SENT


@pytest.mark.parametrize("payload", [b"not json", b'{"event": "delivered"}'])
def test_signed_body_that_is_not_a_json_array_is_a_bad_request(site, event_key, payload):
    message = _email_acknowledgement(site)
    response = _post_events(site, payload, event_key.headers(payload))
    assert response.status_code == 400
    assert reload(message).status == DeliveryStatus.SENT
