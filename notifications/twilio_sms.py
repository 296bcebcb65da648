"""Twilio SMS sender, through the official SDK (``twilio.rest.Client``)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from notifications.base import (
    PermanentSendError,
    RetryableSendError,
    SendResult,
    SmsMessage,
    UnknownOutcomeError,
)

__all__ = ["TWILIO_API_URL", "TwilioSmsSender", "with_message_key"]

log = logging.getLogger(__name__)
# The SDK logs every request at INFO, query parameters included (phone numbers): keep
# personal data out of the logs.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

PROVIDER = "twilio"
TWILIO_API_URL = "https://api.twilio.com"
OPTED_OUT = 21610  # "Attempt to send to unsubscribed recipient"
MESSAGE_KEY_PARAM = "message_key"

# Raised by requests before anything leaves the machine: the configuration is wrong and no
# retry will fix it.
_INVALID_REQUEST = (
    requests.exceptions.URLRequired,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidURL,
)


class _BaseUrlHttpClient(TwilioHttpClient):
    """The SDK's HTTP client, with ``https://api.twilio.com`` replaced by ``base_url``.

    The SDK hard-codes each domain's base URL (``twilio.rest.api.ApiBase``); a custom
    ``http_client`` is the extension point the SDK documents, so URL rewriting lives here
    rather than in a patched private attribute.
    """

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._base_url = base_url.rstrip("/")

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if url.startswith(TWILIO_API_URL + "/"):
            url = self._base_url + url[len(TWILIO_API_URL) :]
        return super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


def with_message_key(url: str, message_key: str) -> str:
    """``url`` with ``message_key=<key>`` added to its query string (unless already there).

    Twilio does not echo custom data in status callbacks, so the key rides in the callback
    URL: a callback then identifies the outbox row even if the send raised
    ``UnknownOutcomeError`` and the message SID was never stored. Twilio signs the full URL,
    query included, so the signature still validates.
    """
    if not message_key:
        return url
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(name == MESSAGE_KEY_PARAM for name, _ in query):
        return url
    query.append((MESSAGE_KEY_PARAM, message_key))
    return urlunsplit(parts._replace(query=urlencode(query)))


class TwilioSmsSender:
    """Send SMS with Twilio's Messages API.

    Give ``from_number`` (an E.164 number or alphanumeric sender id) or
    ``messaging_service_sid`` (``MG…``, lets Twilio pick the sender and handle STOP).
    ``base_url`` replaces ``https://api.twilio.com`` (a local stub in tests). ``timeout``
    applies to connecting and to waiting for the answer, separately.
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        base_url: str | None = None,
        timeout: float = 10,
    ) -> None:
        if not account_sid or not auth_token:
            raise ValueError("TwilioSmsSender needs an account SID and an auth token")
        if not from_number and not messaging_service_sid:
            raise ValueError("TwilioSmsSender needs from_number or messaging_service_sid")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._from_number = from_number
        self._messaging_service_sid = messaging_service_sid
        if base_url:
            self._http: TwilioHttpClient = _BaseUrlHttpClient(base_url, timeout=timeout)
        else:
            self._http = TwilioHttpClient(timeout=timeout)
        self._client = Client(account_sid, auth_token, http_client=self._http)
        # The SDK also reads TWILIO_EDGE / TWILIO_REGION from the environment and would
        # quietly send somewhere else than configured: our configuration is the only source.
        self._client.edge = None
        self._client.region = None

    def close(self) -> None:
        """Close pooled connections (tests, worker shutdown)."""
        if self._http.session is not None:
            self._http.session.close()

    def send_sms(self, message: SmsMessage) -> SendResult:
        """Send ``message``; return the message SID or raise a ``SendError`` subclass."""
        key = message.message_key
        kwargs: dict[str, Any] = {"to": message.to, "body": message.body}
        if self._messaging_service_sid:
            kwargs["messaging_service_sid"] = self._messaging_service_sid
        if self._from_number:
            kwargs["from_"] = self._from_number
        if message.status_callback:
            kwargs["status_callback"] = with_message_key(message.status_callback, key)
        try:
            created = self._client.messages.create(**kwargs)
        except (TwilioRestException, TwilioServiceException) as exc:
            # ``from None``: Twilio's message often quotes the phone number, and a chained
            # traceback would print it in the worker's log.
            raise _api_error(int(exc.status), exc.code, key) from None
        except _INVALID_REQUEST as exc:
            raise PermanentSendError(
                f"Twilio request could not be built ({type(exc).__name__})",
                provider=PROVIDER,
                code="invalid_request",
            ) from exc
        except requests.exceptions.RequestException as exc:
            raise _transport_error(exc, key) from exc
        except ValueError as exc:
            # A 2xx answer we could not decode: Twilio probably has the message.
            log.warning("twilio unreadable answer key=%s", key)
            raise UnknownOutcomeError(
                "Twilio answered but the answer could not be read",
                provider=PROVIDER,
                code="bad_response",
            ) from exc
        sid = str(created.sid or "")
        if not sid:
            raise UnknownOutcomeError(
                "Twilio answered without a message SID", provider=PROVIDER, code="bad_response"
            )
        log.info("twilio accepted key=%s sid=%s", key, sid)
        return SendResult(provider=PROVIDER, provider_id=sid)


def _api_error(
    status: int, code: int | str | None, key: str
) -> RetryableSendError | PermanentSendError:
    """Map an error answer: 429 and 5xx are temporary, any other 4xx is final."""
    code_text = str(code) if code is not None else str(status)
    log.warning("twilio refused key=%s status=%s code=%s", key, status, code_text)
    text = f"Twilio answered HTTP {status}, error {code_text}"
    if code is not None and str(code) != str(status):
        text += f" (https://www.twilio.com/docs/errors/{code})"
    if status == 429 or status >= 500:
        return RetryableSendError(text, provider=PROVIDER, code=code_text, status=status)
    return PermanentSendError(
        text,
        provider=PROVIDER,
        code=code_text,
        status=status,
        opted_out=str(code) == str(OPTED_OUT),
    )


def _transport_error(
    exc: requests.exceptions.RequestException, key: str
) -> RetryableSendError | UnknownOutcomeError:
    """Retry only failures that happened before the request could have been sent.

    A refused or timed-out *connection* means Twilio never saw the request. Anything later
    (read timeout, connection reset while waiting, TLS or proxy trouble) may have created
    the message, and an SMS sent twice cannot be recalled.
    """
    name = type(exc).__name__
    if _failed_to_connect(exc):
        log.warning("twilio unreachable key=%s error=%s", key, name)
        return RetryableSendError(f"Twilio unreachable ({name})", provider=PROVIDER, code="connect")
    log.warning("twilio outcome unknown key=%s error=%s", key, name)
    return UnknownOutcomeError(
        f"No answer from Twilio after the request may have been sent ({name})",
        provider=PROVIDER,
        code="no_answer",
    )


def _failed_to_connect(exc: requests.exceptions.RequestException) -> bool:
    """True if requests/urllib3 report a failure to open the connection."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if type(exc) is not requests.exceptions.ConnectionError:
        # SSLError, ProxyError…: subclasses that may happen after the request left.
        return False
    # requests wraps urllib3's MaxRetryError; its reason is NewConnectionError (refused,
    # DNS) or ConnectTimeoutError only when the TCP connection could not be made. A bare
    # ProtocolError/OSError (reset, remote disconnected) means the request may be out.
    inner = exc.args[0] if exc.args else None
    return isinstance(inner, MaxRetryError) and isinstance(inner.reason, ConnectTimeoutError)
