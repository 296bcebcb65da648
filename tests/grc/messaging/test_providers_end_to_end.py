"""From a claim to the provider's API: the real SendGrid and Twilio SDKs, built from the
application's settings, talk to the local provider stub; what the stub received is what
would have gone over the wire. Without Redis, delivery runs in-process after the request."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from grc.extensions import db
from grc.messaging.models import DeliveryStatus, MessageChannel, OutboxMessage, Purpose
from grc.people.models import Channel, Tenant
from notifications.base import sms_segments
from notifications.dev_outbox import DevOutboxSender
from notifications.sendgrid_email import SendGridEmailSender
from notifications.twilio_sms import TwilioSmsSender
from tests.grc.messaging.provider_apps import (
    EMAIL_FROM,
    LANDLORD,
    PUBLIC_URL,
    TWILIO_FROM,
    Site,
    configured_app,
    open_site,
    outbox,
    provider_site,
    reload,
    twilio_signature,
)
from tests.stubs.providers import (
    SENDGRID_API_KEY,
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    ProviderStub,
)
from workers.jobs import sweep_outbox
from workers.senders import senders, set_senders

TENANT_NUMBER = "+33612345678"  # TIL-11


@pytest.fixture
def site(app: Flask, app_ctx: Flask, provider_stub: ProviderStub, tmp_path) -> Iterator[Site]:
    """A deployment's configuration with both providers pointed at the stub."""
    with provider_site(app, provider_stub, str(tmp_path)) as opened:
        email_sender, sms_sender = senders(opened.app)
        assert isinstance(email_sender, SendGridEmailSender)
        assert isinstance(sms_sender, TwilioSmsSender)
        yield opened


def _ack(claim: dict) -> OutboxMessage:
    [message] = outbox(claim_id=claim["id"], purpose=Purpose.ACKNOWLEDGEMENT)
    return message


def _tenant(site: Site, dwelling: str = "TIL-11") -> Tenant:
    db.session.expire_all()
    return db.session.get(Tenant, site.world.tenants[dwelling].id)


def _prefer_email(site: Site, dwelling: str = "TIL-11") -> Tenant:
    tenant = _tenant(site, dwelling)
    tenant.preferred_channel = Channel.EMAIL
    db.session.commit()
    return tenant


def test_sms_acknowledgement_reaches_twilio(site, provider_stub):
    claim = site.create_claim()
    message = _ack(claim)

    [sms] = provider_stub.sms
    assert sms.to == TENANT_NUMBER
    assert sms.from_ == TWILIO_FROM
    assert sms.messaging_service_sid is None
    assert claim["reference"] in sms.body
    assert sms.body == message.body_text
    assert sms_segments(sms.body) <= 2
    assert (sms.account_sid, sms.username, sms.password) == (
        TWILIO_ACCOUNT_SID,
        TWILIO_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN,
    )
    # The delivery report comes back to the public URL, naming the outbox row.
    assert sms.status_callback == (
        f"{PUBLIC_URL}/webhooks/twilio/status?message_key=grc-outbox-{message.id}"
    )
    assert provider_stub.emails == []

    assert message.channel == MessageChannel.SMS
    assert message.status == DeliveryStatus.SENT
    assert (message.provider, message.provider_id) == ("twilio", sms.sid)
    assert message.attempts == 1
    assert message.last_error is None


def test_email_acknowledgement_reaches_sendgrid(site, provider_stub):
    tenant = _prefer_email(site)
    claim = site.create_claim()
    message = _ack(claim)

    [email] = provider_stub.emails
    assert email.to == [tenant.email]
    assert (email.from_email, email.from_name) == (EMAIL_FROM, LANDLORD)
    assert email.api_key == SENDGRID_API_KEY
    assert claim["reference"] in email.subject
    assert email.subject == message.subject
    assert email.text == message.body_text
    assert claim["reference"] in email.text
    assert email.html == message.body_html
    assert "<p>" in email.html
    assert email.message_key == f"grc-outbox-{message.id}"
    assert email.custom_args == {"message_key": f"grc-outbox-{message.id}"}
    assert provider_stub.sms == []

    assert message.channel == MessageChannel.EMAIL
    assert message.status == DeliveryStatus.SENT
    assert (message.provider, message.provider_id) == ("sendgrid", email.provider_id)
    assert message.provider_id


@pytest.mark.parametrize("channel", ["sms", "email"])
def test_provider_unavailable_leaves_it_pending_for_the_sweeper(site, provider_stub, channel):
    if channel == "email":
        _prefer_email(site)
    provider = "twilio" if channel == "sms" else "sendgrid"
    provider_stub.fail_next(503, provider=provider)
    claim = site.create_claim()

    message = _ack(claim)
    assert message.status == DeliveryStatus.PENDING
    assert message.attempts == 1
    assert message.last_error.startswith("RetryableSendError:")
    assert "503" in message.last_error
    assert [r.status for r in provider_stub.requests] == [503]
    assert provider_stub.sms == []
    assert provider_stub.emails == []

    message = reload(message)  # the job ended the session
    # It waits 10 s after the failed call before its next attempt (RQ's Retry runs the job
    # again then). Measured from the call, not from the message's creation: on a busy machine
    # the job may start seconds after the commit.
    assert message.call_started_at is not None
    assert message.available_at - message.call_started_at >= timedelta(seconds=9)
    assert message.available_at <= datetime.now(UTC) + timedelta(seconds=10)
    assert sweep_outbox() == 0  # not due yet
    message = reload(message)
    message.available_at -= timedelta(minutes=1)
    db.session.commit()
    assert sweep_outbox() == 1

    sent = reload(message)
    assert sent.status == DeliveryStatus.SENT
    assert sent.attempts == 2
    assert sent.last_error is None
    accepted = provider_stub.sms if channel == "sms" else provider_stub.emails
    assert len(accepted) == 1
    assert sent.provider_id == (accepted[0].sid if channel == "sms" else accepted[0].provider_id)
    assert sweep_outbox() == 0
    assert len(provider_stub.requests) == 2


def test_invalid_number_fails_and_is_listed_for_managers(site, provider_stub):
    ok = _ack(site.create_claim("PARC-11"))
    provider_stub.fail_next(400, provider="twilio", code=21211)
    message = _ack(site.create_claim())

    assert ok.status == DeliveryStatus.SENT
    assert message.status == DeliveryStatus.FAILED
    assert message.failed_at is not None
    assert "21211" in message.last_error
    assert message.last_error.startswith("PermanentSendError:")
    assert message.attempts == 1
    assert _tenant(site).sms_opt_out is False
    [accepted] = provider_stub.sms  # the other tenant's only
    assert accepted.to == "+33701020304"

    for user in ("manager", "admin"):
        response = site.client.get(
            "/api/v1/messages?status=failed", headers=site.world.headers(user)
        )
        assert response.status_code == 200, response.json
        assert [m["id"] for m in response.json] == [message.id]
        [listed] = response.json
        assert listed["status"] == "failed"
        assert "21211" in listed["last_error"]
    response = site.client.get(
        "/api/v1/messages?status=failed", headers=site.world.headers("agent")
    )
    assert response.status_code == 403


def test_opted_out_at_twilio_fails_and_records_the_opt_out(site, provider_stub):
    provider_stub.fail_next(400, provider="twilio", code=21610)
    message = _ack(site.create_claim())

    assert message.status == DeliveryStatus.FAILED
    assert "21610" in message.last_error
    tenant = _tenant(site)
    assert tenant.sms_opt_out is True
    assert _tenant(site, "PARC-11").sms_opt_out is False

    # The next message to that tenant goes by e-mail.
    claim = site.create_claim()
    [email] = provider_stub.emails
    assert email.to == [tenant.email]
    assert claim["reference"] in email.subject
    assert _ack(claim).status == DeliveryStatus.SENT


@pytest.fixture
def impatient_twilio(site: Site, provider_stub: ProviderStub) -> Iterator[TwilioSmsSender]:
    """Twilio with a one-second timeout (build_senders has no timeout setting: the default
    of 10 s would make every read-timeout test wait that long)."""
    email_sender, _ = senders(site.app)
    sms_sender = TwilioSmsSender(
        TWILIO_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN,
        from_number=TWILIO_FROM,
        base_url=provider_stub.url,
        timeout=1,
    )
    set_senders(site.app, email_sender, sms_sender)
    yield sms_sender
    sms_sender.close()


def test_sms_read_timeout_is_set_aside_then_resent_by_an_admin(
    site, provider_stub, impatient_twilio
):
    provider_stub.respond_next(delay=3, provider="twilio")  # accepted, answered too late
    message = _ack(site.create_claim())

    assert message.status == DeliveryStatus.NEEDS_CHECK
    assert "No answer from Twilio" in message.last_error
    assert message.provider_id is None
    assert len(provider_stub.sms) == 1  # the provider has it; nobody resent it blindly
    assert sweep_outbox() == 0
    assert len(provider_stub.sms) == 1

    listed = site.client.get(
        "/api/v1/messages?status=needs_check", headers=site.world.headers("manager")
    )
    assert [m["id"] for m in listed.json] == [message.id]

    url = f"/api/v1/messages/{message.id}/retry"
    assert site.client.post(url, headers=site.world.headers("manager")).status_code == 403
    assert site.client.post(url, headers=site.world.headers("agent")).status_code == 403
    assert reload(message).status == DeliveryStatus.NEEDS_CHECK
    assert len(provider_stub.sms) == 1

    response = site.client.post(url, headers=site.world.headers("admin"))
    assert response.status_code == 200, response.json
    assert response.json["status"] == "pending"  # answered before the delivery runs
    assert response.json["attempts"] == 0
    resent = reload(message)
    assert resent.status == DeliveryStatus.SENT
    assert resent.attempts == 1
    assert resent.last_error is None
    assert len(provider_stub.sms) == 2
    assert resent.provider_id == provider_stub.sms[1].sid
    assert provider_stub.sms[1].body == provider_stub.sms[0].body

    # Only failed or to-be-checked messages are sent again.
    assert site.client.post(url, headers=site.world.headers("admin")).status_code == 409
    assert len(provider_stub.sms) == 2


def test_failed_message_is_resent_by_an_admin(site, provider_stub):
    provider_stub.fail_next(400, provider="twilio", code=21211)
    message = _ack(site.create_claim())
    assert message.status == DeliveryStatus.FAILED

    url = f"/api/v1/messages/{message.id}/retry"
    assert site.client.post(url, headers=site.world.headers("manager")).status_code == 403
    assert site.client.post(url, headers=site.world.headers("admin")).status_code == 200
    resent = reload(message)
    assert resent.status == DeliveryStatus.SENT
    assert [s.to for s in provider_stub.sms] == [TENANT_NUMBER]
    assert resent.provider_id == provider_stub.sms[0].sid


def _report(site: Site, sms, status: str):
    """Twilio's signed status callback for ``sms``, to the URL it was given at send time."""
    params = {
        "AccountSid": TWILIO_ACCOUNT_SID,
        "From": TWILIO_FROM,
        "MessageSid": sms.sid,
        "MessageStatus": status,
        "SmsSid": sms.sid,
        "SmsStatus": status,
        "To": sms.to,
    }
    signature = twilio_signature(TWILIO_AUTH_TOKEN, sms.status_callback, params)
    return site.client.post(
        sms.status_callback.removeprefix(PUBLIC_URL),
        data=params,
        headers={"X-Twilio-Signature": signature},
    )


def test_delivery_report_resolves_an_sms_whose_send_timed_out(
    site, provider_stub, impatient_twilio
):
    provider_stub.respond_next(delay=3, provider="twilio")
    message = _ack(site.create_claim())
    assert message.status == DeliveryStatus.NEEDS_CHECK
    [sms] = provider_stub.sms
    assert _report(site, sms, "delivered").status_code == 204
    reported = reload(message)
    assert reported.status == DeliveryStatus.DELIVERED
    assert (reported.provider, reported.provider_id) == ("twilio", sms.sid)
    retry = f"/api/v1/messages/{message.id}/retry"
    assert site.client.post(retry, headers=site.world.headers("admin")).status_code == 409
    assert len(provider_stub.sms) == 1


def test_status_report_resolves_an_sms_whose_send_timed_out(site, provider_stub, impatient_twilio):
    """The key rides in the callback URL so that "a callback then identifies the outbox row
    even if the send raised UnknownOutcomeError" (notifications.twilio_sms.with_message_key):
    once Twilio reports the SMS sent, there is nothing left for a person to check, and an
    administrator's retry would text the tenant twice."""
    provider_stub.respond_next(delay=3, provider="twilio")
    message = _ack(site.create_claim())
    assert message.status == DeliveryStatus.NEEDS_CHECK
    [sms] = provider_stub.sms
    assert _report(site, sms, "sent").status_code == 204
    reported = reload(message)
    assert reported.provider_id == sms.sid
    assert reported.status == DeliveryStatus.SENT


# --- no credentials: the development outbox ------------------------------------------------


@pytest.fixture
def dev_site(app: Flask, app_ctx: Flask, tmp_path) -> Iterator[Site]:
    """The test settings as they are, no provider credentials, an instance folder of its own
    (so the development outbox file holds this test's messages only)."""
    with configured_app(app, instance_path=str(tmp_path)) as application:
        email_sender, sms_sender = senders(application)
        assert isinstance(email_sender, DevOutboxSender)
        assert isinstance(sms_sender, DevOutboxSender)
        assert email_sender.path == tmp_path.resolve() / "dev-outbox.jsonl"
        yield open_site(application)


def test_without_credentials_messages_land_in_the_dev_outbox(dev_site):
    first = dev_site.create_claim()
    second = dev_site.create_claim("PARC-11")

    response = dev_site.client.get("/api/v1/dev-outbox", headers=dev_site.world.headers("admin"))
    assert response.status_code == 200, response.json
    newest, previous = response.json
    assert newest["kind"] == previous["kind"] == "sms"
    assert second["reference"] in newest["body"]
    assert newest["to"] == "+33701020304"
    assert first["reference"] in previous["body"]
    assert previous["to"] == TENANT_NUMBER
    messages = outbox()
    assert [m.status for m in messages] == [DeliveryStatus.SENT, DeliveryStatus.SENT]
    assert [m.provider for m in messages] == ["dev", "dev"]
    assert [newest["message_key"], previous["message_key"]] == [
        messages[1].message_key,
        messages[0].message_key,
    ]
    assert newest["provider_id"] == messages[1].provider_id
    for user in ("agent", "metz_tech"):
        headers = dev_site.world.headers(user)
        assert dev_site.client.get("/api/v1/dev-outbox", headers=headers).status_code == 403


def test_dev_outbox_shows_the_text_of_emails(dev_site):
    _prefer_email(dev_site)
    claim = dev_site.create_claim()
    [entry] = dev_site.client.get(
        "/api/v1/dev-outbox", headers=dev_site.world.headers("admin")
    ).json
    assert entry["kind"] == "email"
    assert claim["reference"] in entry["subject"]
    assert claim["reference"] in entry.get("body", "")


def test_dev_outbox_shows_where_a_work_order_reply_goes(app, app_ctx, tmp_path):
    """The work order's e-mail carries its signed reply address: shown, a reply can be tried
    locally with `grc receive-email --to`."""
    from grc.contracts.work_orders import work_order_id_from_address

    with configured_app(app, instance_path=str(tmp_path)) as application:
        site = open_site(application, contracts=True)
        claim = site.create_claim(category="PLB-FUITE")
        entries = site.client.get("/api/v1/dev-outbox", headers=site.world.headers("admin")).json
    [order_mail] = [e for e in entries if e["to"] == "ordres@multiservices.test"]
    assert claim["reference"] in order_mail["subject"]
    assert work_order_id_from_address(order_mail["reply_to"]) is not None
    tenant_texts = [e for e in entries if e["kind"] == "sms"]
    assert tenant_texts
    assert all(e["reply_to"] is None for e in tenant_texts)


@pytest.mark.parametrize("threads", [1, 4])
def test_one_job_delivers_a_backlog_in_batches(site, provider_stub, threads):
    """What piled up while no worker ran (a deploy, an outage) leaves in batches, each message
    once, whether the providers are called from one thread or several."""
    from dataclasses import replace

    from grc import worktable
    from grc.messaging.operations import NewMessage, queue_message
    from tests.dispatchers import Ignoring
    from workers.jobs import deliver_due_messages

    app = site.app
    settings = app.extensions["grc_settings"]
    app.extensions["grc_settings"] = replace(settings, delivery_batch=3, delivery_threads=threads)
    dispatchers = worktable.dispatchers(app)
    assert dispatchers is not None
    # nothing delivered at commit
    worktable.set_dispatchers(app, replace(dispatchers, delivery=Ignoring()))
    try:
        for n in range(7):
            sms = n % 2 == 0
            queue_message(
                db.session,
                NewMessage(
                    idempotency_key=f"backlog-{n}",
                    channel=MessageChannel.SMS if sms else MessageChannel.EMAIL,
                    purpose=Purpose.ACKNOWLEDGEMENT,
                    recipient=TENANT_NUMBER if sms else "locataire@example.org",
                    subject=None if sms else f"Message {n}",
                    body_text=f"Message {n}",
                ),
            )
        db.session.commit()
        assert deliver_due_messages() == "sent=7"
    finally:
        app.extensions["grc_settings"] = settings
        worktable.set_dispatchers(app, dispatchers)

    rows = outbox()
    assert len(rows) == 7
    assert {(m.status, m.attempts) for m in rows} == {(DeliveryStatus.SENT, 1)}
    assert sorted(s.body for s in provider_stub.sms) == [
        "Message 0",
        "Message 2",
        "Message 4",
        "Message 6",
    ]
    assert len(provider_stub.emails) == 3
    assert len(provider_stub.requests) == 7  # nothing sent twice
    by_id = {m.id: m.provider_id for m in rows}
    assert sorted(by_id.values()) == sorted(
        [s.sid for s in provider_stub.sms] + [e.provider_id for e in provider_stub.emails]
    )
