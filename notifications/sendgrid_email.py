"""SendGrid email sender, through the official SDK (``sendgrid`` + ``python_http_client``)."""

from __future__ import annotations

import http.client
import json
import logging
import urllib.error

import sendgrid
from python_http_client.exceptions import HTTPError
from sendgrid.helpers.mail import CustomArg, From, Header, Mail, ReplyTo, To

from notifications.base import (
    EmailMessage,
    PermanentSendError,
    RetryableSendError,
    SendResult,
)

__all__ = ["MESSAGE_KEY_HEADER", "SendGridEmailSender"]

log = logging.getLogger(__name__)

PROVIDER = "sendgrid"
DEFAULT_HOST = "https://api.sendgrid.com"
MESSAGE_KEY_HEADER = "X-GRC-Message-Key"
MESSAGE_KEY_ARG = "message_key"


class _DropDebugRecords(logging.Filter):
    """Drop python_http_client's DEBUG records.

    That library logs every request's headers (our API key) and payload (recipient, subject,
    body) at DEBUG; a development logger left at DEBUG would copy both into log files.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


_sdk_logger = logging.getLogger("python_http_client.client")
if not any(type(f).__name__ == _DropDebugRecords.__name__ for f in _sdk_logger.filters):
    _sdk_logger.addFilter(_DropDebugRecords())


class SendGridEmailSender:
    """Send emails with SendGrid's v3 ``mail/send`` API.

    ``host`` points the SDK elsewhere (a local stub in tests, the EU endpoint in production
    if the account lives there). Timeouts are retryable: the message key travels as a header
    and a custom argument, so a duplicate caused by a lost answer can be recognised.
    """

    def __init__(self, api_key: str, host: str | None = None, timeout: float = 10) -> None:
        if not api_key:
            # The SDK would silently fall back to $SENDGRID_API_KEY; we want one source.
            raise ValueError("SendGridEmailSender needs an API key")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._client = sendgrid.SendGridAPIClient(
            api_key=api_key, host=(host or DEFAULT_HOST).rstrip("/")
        )
        # python_http_client.Client passes its timeout to urllib for every request built
        # from it; without one, a stalled connection would block a worker forever.
        self._client.client.timeout = timeout

    @staticmethod
    def build_mail(message: EmailMessage) -> Mail:
        """The SDK ``Mail`` for ``message``: text part first, HTML second, key twice."""
        mail = Mail(
            from_email=From(message.from_email, message.from_name),
            to_emails=To(message.to),
            subject=message.subject,
            plain_text_content=message.text,
            html_content=message.html,
        )
        if message.reply_to:
            mail.reply_to = ReplyTo(message.reply_to)
        if message.message_key:
            mail.custom_arg = CustomArg(MESSAGE_KEY_ARG, message.message_key)
            mail.header = Header(MESSAGE_KEY_HEADER, message.message_key)
        return mail

    def send_email(self, message: EmailMessage) -> SendResult:
        """Send ``message``; return SendGrid's ``X-Message-Id`` or raise a ``SendError``."""
        key = message.message_key
        try:
            response = self._client.send(self.build_mail(message))
        except HTTPError as exc:
            # ``from None``: the SDK exception's text carries the response body, which we
            # summarise ourselves; it must not reach the logs through the traceback.
            raise _http_error(exc, key) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            # Connection refused, DNS failure, TLS failure, timeout before or after sending:
            # all retryable for email, the message key makes a duplicate recognisable.
            log.warning("sendgrid transport failure key=%s error=%s", key, type(exc).__name__)
            raise RetryableSendError(
                f"SendGrid unreachable or no answer in time ({type(exc).__name__})",
                provider=PROVIDER,
                code="transport",
            ) from exc
        provider_id = response.headers.get("X-Message-Id") or ""
        if not provider_id:
            log.warning("sendgrid accepted key=%s without an X-Message-Id", key)
        log.info("sendgrid accepted key=%s status=%s", key, response.status_code)
        return SendResult(provider=PROVIDER, provider_id=provider_id)


def _http_error(exc: HTTPError, key: str) -> RetryableSendError | PermanentSendError:
    """Map an HTTP error answer: 408/429/5xx are temporary, any other 4xx is final."""
    status = int(exc.status_code)
    detail = _error_detail(exc.body)
    text = f"SendGrid answered HTTP {status}" + (f": {detail}" if detail else "")
    log.warning("sendgrid refused key=%s status=%s", key, status)
    if status in (408, 429) or status >= 500:
        return RetryableSendError(text, provider=PROVIDER, code=str(status), status=status)
    return PermanentSendError(text, provider=PROVIDER, code=str(status), status=status)


def _error_detail(body: bytes | str | None) -> str:
    """SendGrid's ``{"errors": [{"field", "message"}]}`` as one short line, if present."""
    if not body:
        return ""
    try:
        errors = json.loads(body)["errors"]
        parts = [
            f"{e.get('field')}: {e.get('message')}" if e.get("field") else str(e.get("message"))
            for e in errors
            if isinstance(e, dict)
        ]
    except (ValueError, KeyError, TypeError):
        return ""
    return "; ".join(parts)[:300]
