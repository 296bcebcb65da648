"""Development sender: messages go to a JSON-lines file instead of a provider.

It lets the whole loop (claim → outbox → job → "sent") run on a laptop without credentials,
and the development UI can show what would have been sent with ``read_messages``.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import uuid
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from notifications.base import EmailMessage, SendResult, SmsMessage

__all__ = ["OUTBOX_FILENAME", "DevOutboxSender"]

log = logging.getLogger(__name__)

PROVIDER = "dev"
OUTBOX_FILENAME = "dev-outbox.jsonl"


class DevOutboxSender:
    """Append each message as one JSON line to ``<directory>/dev-outbox.jsonl``.

    Safe across processes (web server and workers share the file): each line is written
    with a single ``write`` on a descriptor opened in append mode, under an exclusive
    ``flock`` so lines longer than the pipe buffer never interleave. POSIX only.
    """

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.path = self.directory / OUTBOX_FILENAME

    def send_email(self, message: EmailMessage) -> SendResult:
        """Record ``message`` as an email; never fails short of a full disk."""
        return self._append(
            {
                "kind": "email",
                "to": message.to,
                "from_email": message.from_email,
                "from_name": message.from_name,
                "reply_to": message.reply_to,
                "subject": message.subject,
                "text": message.text,
                "html": message.html,
                "message_key": message.message_key,
            }
        )

    def send_sms(self, message: SmsMessage) -> SendResult:
        """Record ``message`` as an SMS."""
        return self._append(
            {
                "kind": "sms",
                "to": message.to,
                "body": message.body,
                "status_callback": message.status_callback,
                "message_key": message.message_key,
            }
        )

    def read_messages(self, limit: int = 100) -> list[dict[str, Any]]:
        """The last ``limit`` recorded messages, newest first; unreadable lines are skipped."""
        if limit <= 0 or not self.path.exists():
            return []
        latest: deque[dict[str, Any]] = deque(maxlen=limit)
        with self.path.open("rb") as fh:
            fcntl.flock(fh, fcntl.LOCK_SH)
            try:
                for raw in fh:
                    try:
                        record = json.loads(raw)
                    except ValueError:
                        continue
                    if isinstance(record, dict):
                        latest.append(record)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return list(reversed(latest))

    def _append(self, record: dict[str, Any]) -> SendResult:
        provider_id = f"dev-{uuid.uuid4().hex}"
        record = {
            "provider_id": provider_id,
            **record,
            "sent_at": datetime.now(UTC).isoformat(),
        }
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                written = os.write(fd, line)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        if written != len(line):  # pragma: no cover - only on a full disk
            raise OSError(f"short write to {self.path}: {written} of {len(line)} bytes")
        log.info("dev outbox recorded %s key=%s", record["kind"], record["message_key"])
        return SendResult(provider=PROVIDER, provider_id=provider_id)
