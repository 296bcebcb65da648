"""Sending email and SMS behind two small protocols; knows nothing of claims or Flask.

Importing the package loads no provider SDK: ``SendGridEmailSender``, ``TwilioSmsSender``
and the webhook helpers live in ``notifications.sendgrid_email``, ``notifications.twilio_sms``
and ``notifications.callbacks``; ``build_senders`` imports them only when configured.
"""

from notifications.base import (
    EmailMessage,
    EmailSender,
    PermanentSendError,
    RetryableSendError,
    SendError,
    SendResult,
    SmsMessage,
    SmsSender,
    UnknownOutcomeError,
    sms_encoding,
    sms_segments,
)
from notifications.dev_outbox import DevOutboxSender
from notifications.factory import build_senders
from notifications.memory import MemorySender

__all__ = [
    "DevOutboxSender",
    "EmailMessage",
    "EmailSender",
    "MemorySender",
    "PermanentSendError",
    "RetryableSendError",
    "SendError",
    "SendResult",
    "SmsMessage",
    "SmsSender",
    "UnknownOutcomeError",
    "build_senders",
    "sms_encoding",
    "sms_segments",
]
