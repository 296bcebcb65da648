"""The development outbox file: content, order, and intact lines under concurrent writers."""

from __future__ import annotations

import json
import multiprocessing
import threading
from datetime import datetime, timedelta
from pathlib import Path

from notifications.base import EmailMessage, EmailSender, SmsMessage, SmsSender
from notifications.dev_outbox import OUTBOX_FILENAME, DevOutboxSender

EMAIL = EmailMessage(
    to="locataire@example.fr",
    subject="Sujet",
    text="Texte",
    html="<p>Texte</p>",
    from_email="no-reply@example.fr",
    from_name="Bailleur",
    reply_to="gestion@example.fr",
    message_key="outbox-1",
)
SMS = SmsMessage(to="+33612345678", body="Arrêt d'eau demain", message_key="outbox-2")
BIG_BODY = "é" * 5000  # 10 kB per line: well past PIPE_BUF, where O_APPEND alone is not enough


def test_implements_both_protocols(tmp_path: Path) -> None:
    sender = DevOutboxSender(tmp_path)
    assert isinstance(sender, EmailSender)
    assert isinstance(sender, SmsSender)


def test_records_email_and_sms_newest_first(tmp_path: Path) -> None:
    sender = DevOutboxSender(tmp_path / "not-yet-created")

    email_result = sender.send_email(EMAIL)
    sms_result = sender.send_sms(SMS)

    assert email_result.provider == sms_result.provider == "dev"
    assert email_result.provider_id.startswith("dev-")
    assert email_result.provider_id != sms_result.provider_id
    sms, email = sender.read_messages()
    assert sms["kind"] == "sms"
    assert (sms["to"], sms["body"], sms["message_key"]) == (SMS.to, SMS.body, "outbox-2")
    assert sms["provider_id"] == sms_result.provider_id
    assert email["kind"] == "email"
    assert (email["to"], email["subject"], email["message_key"]) == (
        EMAIL.to,
        "Sujet",
        "outbox-1",
    )
    assert (email["text"], email["html"], email["reply_to"]) == (
        "Texte",
        "<p>Texte</p>",
        "gestion@example.fr",
    )
    sent_at = datetime.fromisoformat(email["sent_at"])
    assert sent_at.utcoffset() == timedelta(0)


def test_one_json_line_per_message(tmp_path: Path) -> None:
    sender = DevOutboxSender(tmp_path)
    sender.send_sms(SmsMessage(to="+33612345678", body="ligne 1\nligne 2"))

    lines = (tmp_path / OUTBOX_FILENAME).read_text(encoding="utf-8").splitlines()

    assert len(lines) == 1
    assert json.loads(lines[0])["body"] == "ligne 1\nligne 2"


def test_read_messages_limit_and_missing_file(tmp_path: Path) -> None:
    sender = DevOutboxSender(tmp_path)
    assert sender.read_messages() == []

    for i in range(5):
        sender.send_sms(SmsMessage(to="+33612345678", body=f"n{i}"))

    assert [m["body"] for m in sender.read_messages(limit=3)] == ["n4", "n3", "n2"]
    assert sender.read_messages(limit=0) == []


def test_unreadable_lines_are_skipped(tmp_path: Path) -> None:
    sender = DevOutboxSender(tmp_path)
    sender.send_sms(SmsMessage(to="+33612345678", body="avant"))
    with (tmp_path / OUTBOX_FILENAME).open("a", encoding="utf-8") as fh:
        fh.write('{"truncated": \n[1, 2]\n')
    sender.send_sms(SmsMessage(to="+33612345678", body="après"))

    assert [m["body"] for m in sender.read_messages()] == ["après", "avant"]


def _write_many(directory: str, writer: int, count: int) -> None:
    sender = DevOutboxSender(Path(directory))
    for i in range(count):
        sender.send_sms(SmsMessage(to="+33600000000", body=BIG_BODY, message_key=f"{writer}-{i}"))


def _assert_all_lines_intact(path: Path, writers: int, count: int) -> None:
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    records = [json.loads(line) for line in lines[:-1]]  # raises if any line is torn
    assert len(records) == writers * count
    assert {r["message_key"] for r in records} == {
        f"{w}-{i}" for w in range(writers) for i in range(count)
    }
    assert all(r["body"] == BIG_BODY for r in records)


def test_concurrent_processes_keep_every_line_intact(tmp_path: Path) -> None:
    writers, count = 4, 50
    context = multiprocessing.get_context("spawn")  # no fork of a threaded pytest process
    processes = [
        context.Process(target=_write_many, args=(str(tmp_path), w, count)) for w in range(writers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0

    _assert_all_lines_intact(tmp_path / OUTBOX_FILENAME, writers, count)


def test_concurrent_threads_keep_every_line_intact(tmp_path: Path) -> None:
    writers, count = 8, 50
    threads = [
        threading.Thread(target=_write_many, args=(str(tmp_path), w, count)) for w in range(writers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    _assert_all_lines_intact(tmp_path / OUTBOX_FILENAME, writers, count)
