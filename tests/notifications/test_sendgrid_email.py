"""SendGridEmailSender against the local stub: the real SDK, the real HTTP request."""

from __future__ import annotations

import logging

import pytest

from notifications.base import (
    EmailMessage,
    EmailSender,
    PermanentSendError,
    RetryableSendError,
    SendError,
    SendResult,
)
from notifications.sendgrid_email import SendGridEmailSender
from tests.stubs.providers import SENDGRID_API_KEY, ProviderStub, closed_port_url

MESSAGE = EmailMessage(
    to="locataire@example.fr",
    subject="Votre réclamation n° 2024-0042",
    text="Bonjour,\nvotre réclamation est enregistrée.",
    html="<p>Bonjour,</p><p>votre réclamation est enregistrée.</p>",
    from_email="no-reply@bailleur.example.fr",
    from_name="Habitat Exemple",
    reply_to="gestion@bailleur.example.fr",
    message_key="outbox-17",
)


@pytest.fixture
def sender(provider_stub: ProviderStub) -> SendGridEmailSender:
    return SendGridEmailSender(SENDGRID_API_KEY, host=provider_stub.url, timeout=2)


def test_is_an_email_sender(sender: SendGridEmailSender) -> None:
    assert isinstance(sender, EmailSender)


def test_sends_everything_the_message_holds(
    sender: SendGridEmailSender, provider_stub: ProviderStub
) -> None:
    result = sender.send_email(MESSAGE)

    [email] = provider_stub.emails
    assert result == SendResult("sendgrid", email.provider_id)
    assert result.provider_id
    assert email.to == ["locataire@example.fr"]
    assert (email.from_email, email.from_name) == (
        "no-reply@bailleur.example.fr",
        "Habitat Exemple",
    )
    assert email.reply_to == "gestion@bailleur.example.fr"
    assert email.subject == "Votre réclamation n° 2024-0042"
    assert email.text == MESSAGE.text
    assert email.html == MESSAGE.html
    assert email.custom_args == {"message_key": "outbox-17"}
    assert email.mail_headers == {"X-GRC-Message-Key": "outbox-17"}
    assert email.message_key == "outbox-17"
    assert email.api_key == SENDGRID_API_KEY
    assert email.request.path == "/v3/mail/send"
    # SendGrid wants text/plain before text/html.
    assert [c["type"] for c in email.request.json["content"]] == ["text/plain", "text/html"]


def test_text_only_without_key_or_reply_to(
    sender: SendGridEmailSender, provider_stub: ProviderStub
) -> None:
    sender.send_email(
        EmailMessage(to="a@example.fr", subject="s", text="t", html=None, from_email="f@example.fr")
    )

    [email] = provider_stub.emails
    assert email.html is None
    assert email.reply_to is None
    assert email.from_name is None
    assert email.custom_args == {}
    assert email.message_key is None


def test_wrong_api_key_is_permanent(provider_stub: ProviderStub) -> None:
    sender = SendGridEmailSender("SG.wrong", host=provider_stub.url, timeout=2)

    with pytest.raises(PermanentSendError) as info:
        sender.send_email(MESSAGE)

    assert info.value.status == 401
    assert provider_stub.emails == []


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, PermanentSendError),
        (401, PermanentSendError),
        (403, PermanentSendError),
        (413, PermanentSendError),
        (429, RetryableSendError),
        (500, RetryableSendError),
        (503, RetryableSendError),
    ],
)
def test_error_answers_are_mapped(
    sender: SendGridEmailSender,
    provider_stub: ProviderStub,
    status: int,
    error: type[SendError],
) -> None:
    provider_stub.fail_next(status, provider="sendgrid")

    with pytest.raises(error) as info:
        sender.send_email(MESSAGE)

    assert type(info.value) is error
    assert info.value.status == status
    assert info.value.code == str(status)
    assert info.value.provider == "sendgrid"
    assert f"Stub error {status}" in str(info.value)
    assert provider_stub.emails == []


def test_error_message_never_contains_the_recipient_or_content(
    sender: SendGridEmailSender, provider_stub: ProviderStub
) -> None:
    provider_stub.fail_next(400, provider="sendgrid")

    with pytest.raises(PermanentSendError) as info:
        sender.send_email(MESSAGE)

    text = str(info.value)
    assert MESSAGE.to not in text
    assert MESSAGE.subject not in text
    assert info.value.__cause__ is None


def test_retry_after_a_5xx_succeeds(
    sender: SendGridEmailSender, provider_stub: ProviderStub
) -> None:
    provider_stub.fail_next(503, provider="sendgrid")
    with pytest.raises(RetryableSendError):
        sender.send_email(MESSAGE)

    sender.send_email(MESSAGE)

    assert len(provider_stub.requests) == 2
    assert provider_stub.distinct_email_keys() == ["outbox-17"]


def test_connection_refused_is_retryable() -> None:
    sender = SendGridEmailSender(SENDGRID_API_KEY, host=closed_port_url(), timeout=2)

    with pytest.raises(RetryableSendError) as info:
        sender.send_email(MESSAGE)

    assert info.value.code == "transport"


def test_read_timeout_is_retryable_and_the_duplicate_is_recognisable(
    provider_stub: ProviderStub,
) -> None:
    sender = SendGridEmailSender(SENDGRID_API_KEY, host=provider_stub.url, timeout=0.3)
    provider_stub.respond_next(delay=2, provider="sendgrid")

    with pytest.raises(RetryableSendError):
        sender.send_email(MESSAGE)
    sender.send_email(MESSAGE)  # the job retries

    # SendGrid got it twice; the key lets the duplicate be recognised.
    assert len(provider_stub.emails) == 2
    assert [e.message_key for e in provider_stub.distinct_emails()] == ["outbox-17"]


def test_connection_dropped_after_sending_is_retryable(
    sender: SendGridEmailSender, provider_stub: ProviderStub
) -> None:
    provider_stub.respond_next(drop=True, provider="sendgrid")

    with pytest.raises(RetryableSendError):
        sender.send_email(MESSAGE)


def test_logs_carry_the_key_but_no_personal_data(
    sender: SendGridEmailSender,
    provider_stub: ProviderStub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sender.send_email(MESSAGE)
    provider_stub.fail_next(500, provider="sendgrid")
    with pytest.raises(RetryableSendError):
        sender.send_email(MESSAGE)

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "outbox-17" in logged
    for secret in (MESSAGE.to, MESSAGE.subject, "réclamation", SENDGRID_API_KEY):
        assert secret not in logged


def test_constructor_refuses_an_empty_key() -> None:
    with pytest.raises(ValueError, match="API key"):
        SendGridEmailSender("")
