"""In-memory sender for tests: keeps what was sent, fails on demand."""

from __future__ import annotations

import itertools
import threading
from collections import deque

from notifications.base import EmailMessage, SendError, SendResult, SmsMessage

__all__ = ["MemorySender"]

PROVIDER = "memory"


class MemorySender:
    """Implements ``EmailSender`` and ``SmsSender`` by appending to ``emails`` / ``sms``.

    ``fail_next(error)`` makes the next call raise ``error`` (and records nothing), which is
    how job tests exercise retries and terminal failure without a provider stub.
    Thread-safe, so in-process job runners can share one instance.
    """

    def __init__(self) -> None:
        self.emails: list[EmailMessage] = []
        self.sms: list[SmsMessage] = []
        self._failures: deque[tuple[SendError, str | None]] = deque()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def fail_next(self, error: SendError, *, times: int = 1, kind: str | None = None) -> None:
        """Raise ``error`` on the next ``times`` calls (only ``"email"``/``"sms"`` if given)."""
        if kind not in (None, "email", "sms"):
            raise ValueError(f"kind must be 'email', 'sms' or None, not {kind!r}")
        with self._lock:
            self._failures.extend([(error, kind)] * times)

    def clear(self) -> None:
        """Forget sent messages and pending failures."""
        with self._lock:
            self.emails.clear()
            self.sms.clear()
            self._failures.clear()

    def send_email(self, message: EmailMessage) -> SendResult:
        """Record ``message`` or raise the programmed failure."""
        with self._lock:
            self._raise_if_programmed("email")
            self.emails.append(message)
            return SendResult(PROVIDER, f"mem-email-{next(self._ids)}")

    def send_sms(self, message: SmsMessage) -> SendResult:
        """Record ``message`` or raise the programmed failure."""
        with self._lock:
            self._raise_if_programmed("sms")
            self.sms.append(message)
            return SendResult(PROVIDER, f"mem-sms-{next(self._ids)}")

    def _raise_if_programmed(self, kind: str) -> None:
        for index, (error, wanted) in enumerate(self._failures):
            if wanted in (None, kind):
                del self._failures[index]
                raise error
