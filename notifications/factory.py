"""Choose the senders from configuration: real providers when configured, else the dev outbox."""

from __future__ import annotations

import re
from pathlib import Path

from notifications.base import EmailSender, SmsSender
from notifications.dev_outbox import DevOutboxSender

__all__ = ["build_senders"]

_MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")


def build_senders(
    *,
    sendgrid_api_key: str | None = None,
    sendgrid_host: str | None = None,
    email_from: str | None = None,
    twilio_account_sid: str | None = None,
    twilio_auth_token: str | None = None,
    twilio_from: str | None = None,
    twilio_base_url: str | None = None,
    dev_outbox_dir: Path | str | None = None,
) -> tuple[EmailSender, SmsSender]:
    """Return ``(email_sender, sms_sender)``; each channel is chosen on its own.

    - email: SendGrid if ``sendgrid_api_key`` is set (then ``email_from`` is required, since
      SendGrid refuses unverified senders and a late 403 is harder to read than a start-up
      error), else the development outbox;
    - SMS: Twilio if the account SID and auth token are set (then ``twilio_from`` is
      required: an E.164 number, an alphanumeric sender id, or a Messaging Service SID
      ``MG…``), else the development outbox.

    Half a set of credentials raises ``ValueError`` instead of silently writing real
    messages to a file. SDK modules are imported only for the channels that use them.
    """
    dev: DevOutboxSender | None = None

    def dev_outbox(channel: str) -> DevOutboxSender:
        nonlocal dev
        if dev_outbox_dir is None:
            raise ValueError(f"no {channel} provider configured and no dev_outbox_dir given")
        if dev is None:
            dev = DevOutboxSender(Path(dev_outbox_dir))
        return dev

    email: EmailSender
    if sendgrid_api_key:
        if not email_from:
            raise ValueError("email_from is required when a SendGrid API key is set")
        from notifications.sendgrid_email import SendGridEmailSender

        email = SendGridEmailSender(sendgrid_api_key, host=sendgrid_host or None)
    else:
        email = dev_outbox("email")

    sms: SmsSender
    if twilio_account_sid or twilio_auth_token:
        if not (twilio_account_sid and twilio_auth_token):
            raise ValueError("Twilio needs both the account SID and the auth token")
        if not twilio_from:
            raise ValueError("twilio_from is required when Twilio credentials are set")
        from notifications.twilio_sms import TwilioSmsSender

        is_service = bool(_MESSAGING_SERVICE_SID.match(twilio_from))
        sms = TwilioSmsSender(
            twilio_account_sid,
            twilio_auth_token,
            from_number=None if is_service else twilio_from,
            messaging_service_sid=twilio_from if is_service else None,
            base_url=twilio_base_url or None,
        )
    else:
        sms = dev_outbox("SMS")
    return email, sms
