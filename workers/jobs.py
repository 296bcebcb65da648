"""Job entry points: load by id, check state, call the operation, own the commit.

Arguments are ids only and results are short words, so no personal data ever sits in Redis.
Logs name message ids and claim references, never recipients or bodies.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import timedelta
from typing import TypeVar

from flask import Flask

from grc import worktable
from grc.config import Settings
from grc.db import utcnow
from grc.extensions import db
from grc.inbound.models import InboundEmail
from grc.inbound.operations import WORK_TABLE as INBOUND_WORK_TABLE
from grc.inbound.operations import (
    claim_received_emails,
    delete_old_originals,
    record_failure,
)
from grc.messaging import operations as outbox
from grc.messaging.models import MessageChannel, OutboxMessage
from grc.people.operations import set_sms_opt_out
from notifications.base import (
    EmailMessage,
    EmailSender,
    PermanentSendError,
    SendError,
    SendResult,
    SmsMessage,
    SmsSender,
    UnknownOutcomeError,
)
from workers.app import job_context
from workers.dispatch import DELIVERY, INBOUND, job_started
from workers.senders import senders, thread_senders

log = logging.getLogger(__name__)
Item = TypeVar("Item")

# A delivery job hands over to a fresh one after this long, so no job nears its timeout
# while a steady stream keeps messages coming.
DELIVERY_JOB_BUDGET_SECONDS = 30


class DeliveryDeferred(Exception):
    """Some messages met a temporary provider error: RQ's ``Retry`` runs the job again later,
    by which time their own wait (``available_at``) is over."""


def deliver_due_messages() -> str:
    """Deliver every due outbox message, in batches, until none is left.

    Each batch is claimed and committed before any provider call (``claim_due_messages``),
    sent, then every outcome is recorded in one commit. Several such jobs run side by side
    without ever taking the same message.
    """
    with job_context() as app:
        settings: Settings = app.extensions["grc_settings"]
        if settings.redis_url:
            job_started(DELIVERY)
        send = _Sending(app, settings)

        def deliver(batch: list[OutboxMessage]) -> list[str]:
            outcomes = send(batch)
            words = [
                _record_outcome(message, outcome, settings)
                for message, outcome in zip(batch, outcomes, strict=True)
            ]
            db.session.commit()
            return words

        tally = _in_batches(
            lambda: outbox.claim_due_messages(
                db.session,
                utcnow(),
                settings.delivery_batch,
                settings.max_delivery_attempts,
                timedelta(seconds=settings.delivery_lease_seconds),
            ),
            deliver,
            DELIVERY_JOB_BUDGET_SECONDS,
            lambda: _dispatchers(app).delivery.wake(),
        )
        summary = _summary(tally)
        if tally["retrying"]:
            raise DeliveryDeferred(summary)
        return summary or "nothing due"


def _dispatchers(app: Flask) -> worktable.Dispatchers:
    registered = worktable.dispatchers(app)
    if registered is None:  # workers.init_app registers them with every application
        raise RuntimeError("no dispatchers registered")
    return registered


def _in_batches(
    take: Callable[[], list[Item]],
    handle: Callable[[list[Item]], list[str]],
    budget_seconds: float,
    hand_over: Callable[[], None],
) -> Counter[str]:
    """The loop of a batch job: take a batch (committed before anything is done with it),
    handle it, until nothing is due; past its time budget the job wakes a fresh one and
    stops, so that no job nears its timeout while work keeps coming. Counts the words
    ``handle`` returns, one per item."""
    tally: Counter[str] = Counter()
    started = time.monotonic()
    while True:
        batch = take()
        db.session.commit()
        if not batch:
            return tally
        tally.update(handle(batch))
        if time.monotonic() - started > budget_seconds:
            hand_over()
            return tally


def _summary(tally: Counter[str]) -> str:
    return " ".join(f"{word}={count}" for word, count in sorted(tally.items()))


# Delivery threads live as long as the worker process, so each keeps its SDK clients (and
# their open connections) from one job to the next.
_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(size: int) -> ThreadPoolExecutor:
    with _pools_lock:
        pool = _pools.get(size)
        if pool is None:
            pool = _pools[size] = ThreadPoolExecutor(size, "grc-delivery")
        return pool


def _refill(threads: int) -> int:
    """Free threads worth a commit of start marks: a quarter of them (at least one). A
    thread freed meanwhile waits for a few others to finish, never for the slowest call."""
    return max(1, threads // 4)


class _Sending:
    """Calls the providers for a batch: in the job's thread, or from the process's pool of
    threads, each with senders of its own (the SDK clients are not shared between threads)."""

    def __init__(self, app: Flask, settings: Settings) -> None:
        self.app, self.settings = app, settings
        self.callback_url = (
            f"{settings.public_url}/webhooks/twilio/status" if settings.public_url else None
        )

    def __call__(self, batch: list[OutboxMessage]) -> list[SendResult | SendError]:
        """The batch's outcomes, in order.

        A message is marked as started (and that committed) just before its call: a worker
        killed mid-batch leaves the messages it never called unmarked, and the sweeper sends
        them again instead of setting them aside as uncertain. Marks go out as threads free
        up, for as many messages as there are free threads (``_refill``), so no call waits
        for a slower one, and a provider that answers at once still costs one commit per
        handful of messages, not one per message.
        """
        work = [self._provider_message(message) for message in batch]
        threads = self.settings.delivery_threads
        if len(batch) == 1 or threads == 1:
            outcomes: list[SendResult | SendError] = []
            for message, item in zip(batch, work, strict=True):
                self._mark_started([message])
                outcomes.append(self._call(senders(self.app), item))
            return outcomes
        pool = _pool(threads)
        found: dict[int, SendResult | SendError] = {}
        waiting = list(range(len(batch)))  # indexes, in the batch's order
        running: dict[Future[SendResult | SendError], int] = {}
        while waiting or running:
            free = threads - len(running)
            if waiting and free >= min(_refill(threads), len(waiting)):
                chunk, waiting = waiting[:free], waiting[free:]
                self._mark_started([batch[index] for index in chunk])
                for index in chunk:
                    running[pool.submit(self._call_from_thread, work[index])] = index
                continue
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                found[running.pop(future)] = future.result()
        return [found[index] for index in range(len(batch))]

    def _mark_started(self, messages: list[OutboxMessage]) -> None:
        outbox.mark_calls_started(db.session, messages, utcnow())
        db.session.commit()

    def _call_from_thread(self, item: SmsMessage | EmailMessage) -> SendResult | SendError:
        return self._call(thread_senders(self.app), item)

    def _provider_message(self, message: OutboxMessage) -> SmsMessage | EmailMessage:
        if message.channel == MessageChannel.SMS:
            return SmsMessage(
                to=message.recipient,
                body=message.body_text,
                message_key=message.message_key,
                status_callback=self.callback_url,
            )
        return EmailMessage(
            to=message.recipient,
            subject=message.subject or "",
            text=message.body_text,
            html=message.body_html,
            from_email=self.settings.email_from,
            from_name=self.settings.landlord_name,
            reply_to=message.reply_to,
            message_key=message.message_key,
        )

    @staticmethod
    def _call(
        pair: tuple[EmailSender, SmsSender], item: SmsMessage | EmailMessage
    ) -> SendResult | SendError:
        email_sender, sms_sender = pair
        try:
            if isinstance(item, SmsMessage):
                return sms_sender.send_sms(item)
            return email_sender.send_email(item)
        except SendError as error:
            return error


def _record_outcome(
    message: OutboxMessage, outcome: SendResult | SendError, settings: Settings
) -> str:
    now = utcnow()
    if isinstance(outcome, PermanentSendError):
        outbox.record_failure(db.session, message, f"{type(outcome).__name__}: {outcome}", now)
        if getattr(outcome, "opted_out", False) and message.channel == MessageChannel.SMS:
            set_sms_opt_out(db.session, message.recipient, opted_out=True)
        log.warning("message %s failed permanently", message.id)
        return "failed"
    if isinstance(outcome, UnknownOutcomeError) and message.channel == MessageChannel.SMS:
        outbox.record_unknown_outcome(db.session, message, str(outcome))
        log.warning("message %s: provider outcome unknown, set aside", message.id)
        return "needs_check"
    if isinstance(outcome, SendError):  # retryable, or an e-mail whose outcome is unknown
        error = f"{type(outcome).__name__}: {outcome}"
        if outbox.record_retry(db.session, message, error, now, settings.max_delivery_attempts):
            log.info("message %s: temporary failure, tried again later", message.id)
            return "retrying"
        log.warning("message %s failed after its last attempt", message.id)
        return "failed"
    outbox.record_sent(db.session, message, outcome.provider, outcome.provider_id, now)
    log.info("message %s sent (%s)", message.id, outcome.provider)
    return "sent"


def sweep_work_tables() -> int:
    """Recover what the queues or a worker may have lost (Redis down, process killed), in
    every work table alike (``grc.worktable.sweep``): rows whose worker went silent past its
    lease, and due rows nobody took. Returns how many rows were found."""
    with job_context() as app:
        settings: Settings = app.extensions["grc_settings"]
        swept = worktable.sweep(
            db.session,
            (outbox.work_table(settings.max_delivery_attempts), INBOUND_WORK_TABLE),
            utcnow(),
            timedelta(seconds=settings.sweep_after_seconds),
        )
        db.session.commit()
        worktable.wake_swept(_dispatchers(app), swept)
        for work, found in swept.items():
            if found.rows:
                log.info(
                    "sweeper: %s: %d lease(s) expired, %d row(s) handed over",
                    work,
                    len(found.expired),
                    len(found.handed),
                )
        return sum(found.rows for found in swept.values())


# The name the sweeper had when it swept the outbox alone (``rq cron`` configurations).
sweep_outbox = sweep_work_tables


# Stored e-mails taken per claim: small, so that jobs running side by side share a burst.
INBOUND_BATCH = 10
# A processing job hands over to a fresh one after this long (see DELIVERY_JOB_BUDGET_SECONDS).
INBOUND_JOB_BUDGET_SECONDS = 30


def process_received_emails() -> str:
    """Parse, match, read and apply every stored e-mail that is due (``grc.inbound.processing``).

    E-mails are claimed a few at a time (``claim_received_emails``, committed), then each is
    processed and committed on its own: one e-mail's failure never undoes another's. A
    failure is recorded on the e-mail, which is tried again after a wait and set aside as
    unreadable after its last attempt. Several such jobs run side by side without ever
    taking the same e-mail.
    """
    with job_context() as app:
        settings: Settings = app.extensions["grc_settings"]
        if settings.redis_url:
            job_started(INBOUND)
        tally = _in_batches(
            lambda: claim_received_emails(db.session, utcnow(), INBOUND_BATCH),
            lambda claimed: [_process_claimed_email(email_id) for email_id in claimed],
            INBOUND_JOB_BUDGET_SECONDS,
            lambda: _dispatchers(app).inbound.wake(),
        )
        return _summary(tally) or "nothing due"


def _process_claimed_email(email_id: int) -> str:
    from grc.inbound.processing import keep_what_can_be_read, process_inbound_email

    try:
        status = process_inbound_email(db.session, email_id, utcnow())
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        set_aside = record_failure(
            db.session, email_id, f"{type(error).__name__}: {error}", utcnow()
        )
        if set_aside:  # still shows who wrote, about what, and flags the order it names
            keep_what_can_be_read(db.session, db.session.get_one(InboundEmail, email_id))
        db.session.commit()
        log.exception(
            "inbound e-mail %s: processing failed%s",
            email_id,
            ", set aside as unreadable" if set_aside else "; tried again later",
        )
        return "unreadable" if set_aside else "failed"
    log.info("inbound e-mail %s: %s", email_id, status)
    return str(status)


def watch_work_orders() -> str:
    from grc.contracts.work_orders import watch_work_orders as watch

    with job_context():
        report = watch(db.session, utcnow())
        db.session.commit()
        return f"reminders={report.reminders} escalations={report.escalations}"


def send_surveys() -> str:
    """The satisfaction surveys due, their reminders and expiry (``grc.surveys``)."""
    from grc.surveys.operations import send_due_surveys

    with job_context():
        run = send_due_surveys(db.session, utcnow())
        db.session.commit()
        return str(run)


def send_polls() -> str:
    """The quality-of-service polls: close those past their date, ask a batch of the
    tenants drawn (``grc.polls``)."""
    from grc.polls.operations import send_due_polls

    with job_context():
        run = send_due_polls(db.session, utcnow())
        db.session.commit()
        return str(run)


def compute_ratings() -> str:
    """The supplier ratings of the current and previous quarter and month (``grc.ratings``)."""
    from grc.clock import settings
    from grc.ratings.operations import compute_recent

    with job_context():
        labels = compute_recent(db.session, utcnow(), settings().tz)
        db.session.commit()
        return "ratings " + " ".join(labels)


def watch_sla() -> str:
    from grc.claims.sla_watch import watch_sla as watch

    with job_context():
        report = watch(db.session, utcnow())
        db.session.commit()
        return f"checked={report.checked} warnings={report.warnings} breaches={report.breaches}"


def _batch_after_batch(work: Callable[[], int], size: int, until_done: bool) -> int:
    """One batch of ``work`` (which says how many rows it did), committed; or, until done,
    batch after batch, each committed, until one falls short of ``size``. The total."""
    total = 0
    while True:
        done = work()
        db.session.commit()
        total += done
        if not until_done or done < size:
            return total


# Originals emptied per run of the retention job: a year's backlog, the first time, is worked
# off over a few runs of short transactions instead of one long one.
RETENTION_BATCH = 2000


def delete_old_inbound_originals(until_done: bool = False) -> str:
    """The retention rule of inbound e-mail (``GRC_INBOUND_ORIGINAL_DAYS``): one batch, or
    batch after batch, each committed, until none is left (``until_done``, by hand)."""
    with job_context() as app:
        settings: Settings = app.extensions["grc_settings"]
        total = _batch_after_batch(
            lambda: delete_old_originals(
                db.session, utcnow(), settings.inbound_original_days, RETENTION_BATCH
            ),
            RETENTION_BATCH,
            until_done,
        )
        if total:
            log.info("retention: %d inbound e-mail original(s) deleted", total)
        return f"deleted={total}"


# Claims measured per transaction by the handling-time job: a large landlord's ten years,
# the first time after an upgrade, are worked off in short transactions.
MEASURE_BATCH = 5000


def measure_handling(until_done: bool = False) -> str:
    """Measure the handling time of claims responded to or resolved without it
    (``grc.claims.handling``): one batch, or batch after batch until none is left."""
    from grc.claims.handling import measure_unmeasured

    with job_context():
        total = _batch_after_batch(
            lambda: measure_unmeasured(db.session, MEASURE_BATCH), MEASURE_BATCH, until_done
        )
        if total:
            log.info("handling time measured for %d claim(s)", total)
        return f"measured={total}"


def export_housekeeping() -> str:
    """Delete the export files past their expiry, fail the exports whose worker went
    silent, hand over again those left pending."""
    from grc.exports import operations as exports

    with job_context() as app:
        done = exports.housekeeping(db.session, exports.exports_directory(app), utcnow())
        db.session.commit()
        for job_id in done["pending"]:
            exports.hand_over(job_id)
        return (
            f"deleted={done['deleted']} interrupted={done['interrupted']}"
            f" handed_over={len(done['pending'])}"
        )


def send_weekly_digest() -> str:
    """The managers' weekly digest (``grc.exports.digest``), once the week is over; queued
    once per manager and week, whatever the number of runs."""
    from grc.clock import settings
    from grc.exports.digest import queue_weekly_digests

    with job_context():
        queued = queue_weekly_digests(db.session, utcnow(), settings().tz)
        db.session.commit()
        return "not yet" if queued is None else f"queued={queued}"
