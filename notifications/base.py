"""The small interface every provider sits behind: messages, results, errors, SMS segments.

Callers (the outbox jobs) only ever see these types, so swapping SendGrid for another email
provider, or Twilio for the development outbox, changes configuration and nothing else.
The three error classes tell a job what to do next, which is the whole point of mapping
provider failures here instead of letting SDK exceptions leak out:

- ``RetryableSendError``: nothing was delivered (or a duplicate is harmless); try again later.
- ``PermanentSendError``: the provider refused the message for good; retrying is pointless.
- ``UnknownOutcomeError``: the request may have reached the provider; do not resend blindly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "EmailMessage",
    "EmailSender",
    "PermanentSendError",
    "RetryableSendError",
    "SendError",
    "SendResult",
    "SmsMessage",
    "SmsSender",
    "UnknownOutcomeError",
    "sms_encoding",
    "sms_segments",
]


@dataclass(frozen=True)
class EmailMessage:
    """One email to one recipient.

    ``message_key`` is our idempotency key (the outbox row id). It travels as the
    ``X-GRC-Message-Key`` header and as a provider custom argument, so a message sent twice
    after an ambiguous failure can be recognised, and delivery events can be matched back to
    the outbox row even when the provider id was never stored.
    """

    to: str
    subject: str
    text: str
    html: str | None
    from_email: str
    from_name: str | None = None
    reply_to: str | None = None
    message_key: str = ""


@dataclass(frozen=True)
class SmsMessage:
    """One SMS to one recipient.

    ``to`` is an E.164 number (``+33612345678``); normalising numbers is the caller's job.
    ``status_callback`` is the public URL the provider should report delivery to; the Twilio
    sender adds ``message_key`` to its query string so the report can be matched to the
    outbox row even when the send itself ended in ``UnknownOutcomeError``.
    """

    to: str
    body: str
    message_key: str = ""
    status_callback: str | None = None


@dataclass(frozen=True)
class SendResult:
    """What the provider said: its name and its id for the message (to match callbacks)."""

    provider: str
    provider_id: str


@runtime_checkable
class EmailSender(Protocol):
    """Anything that can send an email: SendGrid, the development outbox, memory."""

    def send_email(self, message: EmailMessage) -> SendResult:
        """Send ``message`` or raise a ``SendError`` subclass; never return on failure."""
        ...


@runtime_checkable
class SmsSender(Protocol):
    """Anything that can send an SMS: Twilio, the development outbox, memory."""

    def send_sms(self, message: SmsMessage) -> SendResult:
        """Send ``message`` or raise a ``SendError`` subclass; never return on failure."""
        ...


class SendError(Exception):
    """Base of every provider failure.

    ``code`` is the provider's own error code when there is one (Twilio ``21211``, or the
    HTTP status for SendGrid), ``status`` the HTTP status if an answer came. Messages never
    contain the recipient or the content: they end up in logs and in the outbox row.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        code: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.code = code
        self.status = status


class RetryableSendError(SendError):
    """Try again later: the failure is temporary and retrying cannot cause harm.

    Raised for HTTP 429 and 5xx answers, for connections refused or timed out before the
    request was sent, and for email timeouts (an email sent twice carries the same message
    key, so the duplicate can be recognised; an SMS cannot be recalled, see
    ``UnknownOutcomeError``).
    """


class PermanentSendError(SendError):
    """The provider refused this message for good; retrying would fail the same way.

    Raised for 4xx answers other than 429: invalid recipient, bad credentials, payload too
    large, unverified sender… ``opted_out`` is true when the recipient has unsubscribed at
    the provider (Twilio error 21610), so the caller can record the opt-out instead of
    treating it as a fault.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        code: str | None = None,
        status: int | None = None,
        opted_out: bool = False,
    ) -> None:
        super().__init__(message, provider=provider, code=code, status=status)
        self.opted_out = opted_out


class UnknownOutcomeError(SendError):
    """The request may have reached the provider but no answer came back.

    Typically a read timeout or a connection dropped after the request was written. For an
    SMS a blind retry may text the tenant twice, so the caller should park the message and
    let the delivery callback (which carries the message key) or a person decide.
    """


# GSM 03.38 default alphabet, in code order (0x00-0x7F); 0x1B is the escape to the
# extension table and is not a character of its own, hence left out.
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ"
    "ÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# GSM 03.38 extension table: each character costs two septets (escape + code).
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
_GSM7_ALL = _GSM7_BASIC | _GSM7_EXTENSION

_GSM7_SINGLE, _GSM7_PART = 160, 153  # septets; a multipart header takes 7 septets
_UCS2_SINGLE, _UCS2_PART = 70, 67  # UTF-16 code units


def sms_encoding(text: str) -> str:
    """Return ``"GSM-7"`` if every character fits the GSM 03.38 tables, else ``"UCS-2"``.

    A single ``ê`` or ``ç`` (not in GSM 03.38) switches the whole message to UCS-2 and cuts
    the room per segment by more than half, which is why templates are worth checking.
    """
    return "GSM-7" if _GSM7_ALL.issuperset(text) else "UCS-2"


def sms_segments(text: str) -> int:
    """Number of SMS segments ``text`` is billed as (0 for an empty text).

    GSM-7: 160 septets in one segment, else parts of 153; extension characters
    (``€ { } [ ] ~ \\ ^ |`` and form feed) take two septets and are never split across
    parts. UCS-2: 70 code units in one segment, else parts of 67; characters outside the
    BMP (emoji) take two units and are never split either.
    """
    if not text:
        return 0
    # Every message is measured, often several times while it is shortened to fit: the
    # common case (it fits in one segment) is counted without a loop over its characters.
    if sms_encoding(text) == "GSM-7":
        total = len(text) + sum(text.count(ch) for ch in _GSM7_EXTENSION)
        single, part = _GSM7_SINGLE, _GSM7_PART
        if total <= single:
            return 1
        units = [2 if ch in _GSM7_EXTENSION else 1 for ch in text]
    else:
        total = len(text.encode("utf-16-le", "surrogatepass")) // 2
        single, part = _UCS2_SINGLE, _UCS2_PART
        if total <= single:
            return 1
        units = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    segments, used = 1, 0
    for unit in units:
        if used + unit > part:
            segments += 1
            used = 0
        used += unit
    return segments
