"""MemorySender, build_senders, and the network guard every test here runs under."""

from __future__ import annotations

import ast
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

import notifications
from notifications import (
    DevOutboxSender,
    EmailMessage,
    EmailSender,
    MemorySender,
    PermanentSendError,
    RetryableSendError,
    SmsMessage,
    SmsSender,
    build_senders,
)
from notifications.sendgrid_email import SendGridEmailSender
from notifications.twilio_sms import TwilioSmsSender
from tests.stubs.network_guard import NetworkAccessBlocked
from tests.stubs.providers import (
    SENDGRID_API_KEY,
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    ProviderStub,
)

EMAIL = EmailMessage(to="a@example.fr", subject="s", text="t", html=None, from_email="f@example.fr")
SMS = SmsMessage(to="+33612345678", body="b", message_key="k")


# --- MemorySender -------------------------------------------------------------------------


def test_memory_sender_records_both_channels() -> None:
    sender = MemorySender()
    assert isinstance(sender, EmailSender)
    assert isinstance(sender, SmsSender)

    first = sender.send_email(EMAIL)
    second = sender.send_sms(SMS)

    assert sender.emails == [EMAIL]
    assert sender.sms == [SMS]
    assert first.provider == second.provider == "memory"
    assert first.provider_id != second.provider_id


def test_memory_sender_fails_on_demand_then_recovers() -> None:
    sender = MemorySender()
    sender.fail_next(RetryableSendError("busy"), times=2)

    for _ in range(2):
        with pytest.raises(RetryableSendError, match="busy"):
            sender.send_email(EMAIL)
    sender.send_email(EMAIL)

    assert sender.emails == [EMAIL]


def test_memory_sender_failure_for_one_channel_only() -> None:
    sender = MemorySender()
    sender.fail_next(PermanentSendError("opted out", code="21610", opted_out=True), kind="sms")

    sender.send_email(EMAIL)
    with pytest.raises(PermanentSendError) as info:
        sender.send_sms(SMS)

    assert info.value.opted_out
    assert sender.sms == []
    sender.send_sms(SMS)
    assert sender.sms == [SMS]


def test_memory_sender_clear() -> None:
    sender = MemorySender()
    sender.send_sms(SMS)
    sender.fail_next(RetryableSendError("x"))
    sender.clear()

    sender.send_sms(SMS)

    assert sender.sms == [SMS]
    with pytest.raises(ValueError, match="kind"):
        sender.fail_next(RetryableSendError("x"), kind="fax")


# --- build_senders ------------------------------------------------------------------------


def test_without_credentials_both_channels_use_one_dev_outbox(tmp_path: Path) -> None:
    email, sms = build_senders(dev_outbox_dir=tmp_path)

    assert isinstance(email, DevOutboxSender)
    assert email is sms
    assert email.directory == tmp_path


def test_real_providers_are_reachable(tmp_path: Path, provider_stub: ProviderStub) -> None:
    email, sms = build_senders(
        sendgrid_api_key=SENDGRID_API_KEY,
        sendgrid_host=provider_stub.url,
        email_from="no-reply@example.fr",
        twilio_account_sid=TWILIO_ACCOUNT_SID,
        twilio_auth_token=TWILIO_AUTH_TOKEN,
        twilio_from="+33700000001",
        twilio_base_url=provider_stub.url,
        dev_outbox_dir=tmp_path,
    )
    assert isinstance(email, SendGridEmailSender)
    assert isinstance(sms, TwilioSmsSender)

    email.send_email(EMAIL)
    sms.send_sms(SMS)
    sms.close()

    assert len(provider_stub.emails) == 1
    assert provider_stub.sms[0].from_ == "+33700000001"
    assert not (tmp_path / "dev-outbox.jsonl").exists()


def test_each_channel_is_chosen_independently(tmp_path: Path, provider_stub: ProviderStub) -> None:
    email, sms = build_senders(
        twilio_account_sid=TWILIO_ACCOUNT_SID,
        twilio_auth_token=TWILIO_AUTH_TOKEN,
        twilio_from="MG" + "0" * 32,
        twilio_base_url=provider_stub.url,
        dev_outbox_dir=tmp_path,
    )
    assert isinstance(email, DevOutboxSender)
    assert isinstance(sms, TwilioSmsSender)

    sms.send_sms(SMS)
    sms.close()

    assert provider_stub.sms[0].messaging_service_sid == "MG" + "0" * 32
    assert provider_stub.sms[0].from_ is None


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"sendgrid_api_key": "SG.x"}, "email_from"),
        ({"twilio_account_sid": TWILIO_ACCOUNT_SID}, "both"),
        ({"twilio_auth_token": "t"}, "both"),
        ({"twilio_account_sid": TWILIO_ACCOUNT_SID, "twilio_auth_token": "t"}, "twilio_from"),
    ],
)
def test_half_configured_provider_is_refused(
    tmp_path: Path, settings: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build_senders(dev_outbox_dir=tmp_path, **settings)


def test_no_provider_and_no_dev_outbox_is_refused() -> None:
    with pytest.raises(ValueError, match="dev_outbox_dir"):
        build_senders()


def test_the_package_is_independent_of_the_application() -> None:
    imported = set()
    for path in Path(notifications.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])

    assert "notifications" in imported  # the walk did see the package's own imports
    assert not imported & {"grc", "workers", "contractors", "flask", "werkzeug"}


def test_importing_the_package_loads_no_sdk() -> None:
    code = "import sys, notifications; print(sorted({'twilio', 'sendgrid'} & set(sys.modules)))"
    root = Path(notifications.__file__).parent.parent
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# --- the network guard --------------------------------------------------------------------


def test_network_guard_blocks_the_internet(network_guard: list[str]) -> None:
    with pytest.raises(NetworkAccessBlocked):
        socket.create_connection(("203.0.113.10", 443), timeout=1)
    with pytest.raises(NetworkAccessBlocked):
        socket.getaddrinfo("api.twilio.com", 443)
    with pytest.raises(OSError, match="blocked"):  # urllib wraps it: still recorded
        urllib.request.urlopen("https://api.sendgrid.com/v3/mail/send", timeout=1)

    assert len(network_guard) == 3
    network_guard.clear()  # or this test would fail at teardown, as it should elsewhere


def test_network_guard_lets_loopback_through(provider_stub: ProviderStub) -> None:
    with socket.create_connection(("127.0.0.1", int(provider_stub.url.rsplit(":", 1)[1]))):
        pass
    socket.getaddrinfo("localhost", 80)
