"""TwilioSmsSender against the local stub: the real SDK, the real HTTP request."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from notifications.base import (
    PermanentSendError,
    RetryableSendError,
    SendError,
    SendResult,
    SmsMessage,
    SmsSender,
    UnknownOutcomeError,
)
from notifications.twilio_sms import TwilioSmsSender, with_message_key
from tests.stubs.providers import (
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    ProviderStub,
    closed_port_url,
)

FROM = "+33700000001"
MESSAGE = SmsMessage(
    to="+33612345678",
    body="Votre intervention est prévue demain entre 8h et 12h.",
    message_key="outbox-42",
    status_callback="https://grc.example.fr/webhooks/twilio/status",
)
SERVICE_SID = "MG" + "a" * 32

MakeSender = Callable[..., TwilioSmsSender]


@pytest.fixture
def make_sender(provider_stub: ProviderStub) -> Iterator[MakeSender]:
    """Build senders pointed at the stub (or elsewhere), closed after the test."""
    made: list[TwilioSmsSender] = []

    def make(
        *,
        from_number: str | None = FROM,
        messaging_service_sid: str | None = None,
        base_url: str | None = None,
        timeout: float = 2,
        auth_token: str = TWILIO_AUTH_TOKEN,
    ) -> TwilioSmsSender:
        sender = TwilioSmsSender(
            TWILIO_ACCOUNT_SID,
            auth_token,
            from_number=from_number,
            messaging_service_sid=messaging_service_sid,
            base_url=base_url or provider_stub.url,
            timeout=timeout,
        )
        made.append(sender)
        return sender

    yield make
    for sender in made:
        sender.close()


def test_is_an_sms_sender(make_sender: MakeSender) -> None:
    assert isinstance(make_sender(), SmsSender)


def test_sends_to_from_body_callback_with_basic_auth(
    make_sender: MakeSender, provider_stub: ProviderStub
) -> None:
    result = make_sender().send_sms(MESSAGE)

    [sms] = provider_stub.sms
    assert re.fullmatch(r"SM[0-9a-f]{32}", result.provider_id)
    assert result == SendResult("twilio", sms.sid)
    assert sms.account_sid == TWILIO_ACCOUNT_SID
    assert (sms.username, sms.password) == (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)
    assert sms.to == "+33612345678"
    assert sms.from_ == FROM
    assert sms.messaging_service_sid is None
    assert sms.body == MESSAGE.body
    callback = urlsplit(sms.status_callback or "")
    assert callback._replace(query="").geturl() == MESSAGE.status_callback
    assert parse_qs(callback.query) == {"message_key": ["outbox-42"]}
    assert sms.request.path == f"/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages.json"


def test_messaging_service_instead_of_a_number(
    make_sender: MakeSender, provider_stub: ProviderStub
) -> None:
    sender = make_sender(from_number=None, messaging_service_sid=SERVICE_SID)

    sender.send_sms(SmsMessage(to="+33612345678", body="Bonjour"))

    [sms] = provider_stub.sms
    assert sms.messaging_service_sid == SERVICE_SID
    assert sms.from_ is None
    assert sms.status_callback is None


def test_message_key_is_added_once_to_the_callback_url() -> None:
    url = "https://grc.example.fr/cb?a=1"
    assert with_message_key(url, "k") == "https://grc.example.fr/cb?a=1&message_key=k"
    assert with_message_key(url + "&message_key=x", "k") == url + "&message_key=x"
    assert with_message_key(url, "") == url


@pytest.mark.parametrize(
    ("status", "code", "error", "opted_out"),
    [
        (400, 21211, PermanentSendError, False),  # invalid 'To' number
        (400, 21610, PermanentSendError, True),  # recipient replied STOP
        (400, 21408, PermanentSendError, False),  # region not enabled
        (401, 20003, PermanentSendError, False),
        (429, 20429, RetryableSendError, False),
        (500, 20500, RetryableSendError, False),
        (503, 20503, RetryableSendError, False),
    ],
)
def test_error_answers_are_mapped(
    make_sender: MakeSender,
    provider_stub: ProviderStub,
    status: int,
    code: int,
    error: type[SendError],
    opted_out: bool,
) -> None:
    provider_stub.fail_next(status, code=code, provider="twilio")

    with pytest.raises(error) as info:
        make_sender().send_sms(MESSAGE)

    assert type(info.value) is error
    assert info.value.code == str(code)
    assert info.value.status == status
    assert getattr(info.value, "opted_out", False) is opted_out
    assert MESSAGE.to not in str(info.value)
    assert info.value.__cause__ is None  # Twilio's text may quote the number
    assert provider_stub.sms == []


def test_wrong_auth_token_is_permanent(
    make_sender: MakeSender, provider_stub: ProviderStub
) -> None:
    with pytest.raises(PermanentSendError) as info:
        make_sender(auth_token="wrong").send_sms(MESSAGE)

    assert (info.value.status, info.value.code) == (401, "20003")
    assert provider_stub.sms == []


def test_read_timeout_is_an_unknown_outcome(
    make_sender: MakeSender, provider_stub: ProviderStub
) -> None:
    provider_stub.respond_next(delay=2, provider="twilio")

    with pytest.raises(UnknownOutcomeError):
        make_sender(timeout=0.3).send_sms(MESSAGE)

    # Twilio did get it: resending blindly would text the tenant twice.
    [sms] = provider_stub.sms
    assert "message_key=outbox-42" in (sms.status_callback or "")


def test_connection_refused_is_retryable(make_sender: MakeSender) -> None:
    with pytest.raises(RetryableSendError) as info:
        make_sender(base_url=closed_port_url()).send_sms(MESSAGE)

    assert info.value.code == "connect"


def test_unreadable_success_answer_is_an_unknown_outcome(
    make_sender: MakeSender, provider_stub: ProviderStub
) -> None:
    provider_stub.respond_next(201, "<html>proxy page</html>", provider="twilio")

    with pytest.raises(UnknownOutcomeError):
        make_sender().send_sms(MESSAGE)


def test_logs_carry_the_key_but_no_personal_data(
    make_sender: MakeSender, provider_stub: ProviderStub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sender = make_sender()
    sender.send_sms(MESSAGE)
    provider_stub.fail_next(400, code=21211, provider="twilio")
    with pytest.raises(PermanentSendError):
        sender.send_sms(MESSAGE)

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "outbox-42" in logged
    for secret in ("+33612345678", "intervention", TWILIO_AUTH_TOKEN):
        assert secret not in logged


def test_environment_cannot_redirect_the_client(
    make_sender: MakeSender, provider_stub: ProviderStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    monkeypatch.setenv("TWILIO_REGION", "ie1")

    make_sender().send_sms(MESSAGE)

    assert len(provider_stub.sms) == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"account_sid": "", "auth_token": "t", "from_number": FROM},
        {"account_sid": TWILIO_ACCOUNT_SID, "auth_token": "", "from_number": FROM},
        {"account_sid": TWILIO_ACCOUNT_SID, "auth_token": "t"},
    ],
)
def test_constructor_refuses_incomplete_configuration(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="TwilioSmsSender needs"):
        TwilioSmsSender(**kwargs)


def test_connection_dropped_after_sending_is_an_unknown_outcome(
    make_sender: MakeSender, provider_stub: ProviderStub
) -> None:
    provider_stub.respond_next(drop=True, provider="twilio")

    with pytest.raises(UnknownOutcomeError):
        make_sender().send_sms(MESSAGE)

    assert len(provider_stub.sms) == 1
