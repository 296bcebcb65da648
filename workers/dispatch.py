"""The dispatchers of the work tables (``grc.worktable``): what wakes the delivery job and
the processing of received e-mail after a commit, with RQ or in-process without Redis."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask, g, has_request_context
from rq import Retry

from grc import worktable
from grc.db import utcnow
from grc.messaging.operations import RETRY_DELAYS
from workers import queues

log = logging.getLogger(__name__)

# A delivery job that met temporary provider errors is run again by RQ after the same waits
# as the messages' own (``grc.messaging.operations.RETRY_DELAYS``).
DELIVERY_RETRY = Retry(max=len(RETRY_DELAYS), interval=list(RETRY_DELAYS))
# Set when a delivery job is scheduled for a moment (a POSIX timestamp): see deliver_at.
SCHEDULED_FLAG = "grc:delivery-scheduled:{}"
WAITING_FLAG_TTL = timedelta(seconds=30)
# Batch jobs keep no result; a failed one stays a week in RQ's failed registry, to be read.
BATCH_JOB_TTLS = {"result_ttl": 0, "failure_ttl": int(timedelta(days=7).total_seconds())}


@dataclass(frozen=True)
class BatchJob:
    """A job that works off one table, in batches, until nothing is due.

    Its ``waiting_flag`` is set while one such job waits in its queue: further commits need
    not enqueue another, since that job takes everything due when it starts. The flag
    expires in case the job is lost; the sweeper covers that gap.
    """

    queue: str
    function: str
    waiting_flag: str
    options: dict[str, object] = field(default_factory=dict)


DELIVERY = BatchJob(
    queues.NOTIFICATIONS,
    "workers.jobs.deliver_due_messages",
    "grc:delivery-job-waiting",
    {"job_timeout": queues.DELIVERY_TIMEOUT, "retry": DELIVERY_RETRY, **BATCH_JOB_TTLS},
)
INBOUND = BatchJob(
    queues.INBOUND,
    "workers.jobs.process_received_emails",
    "grc:inbound-job-waiting",
    {"job_timeout": queues.INBOUND_TIMEOUT, **BATCH_JOB_TTLS},
)
# The flags' names, read by the benches.
WAITING_FLAG = DELIVERY.waiting_flag
INBOUND_WAITING_FLAG = INBOUND.waiting_flag


def wake_one_job(
    job: BatchJob,
    redis_url: str,
    *,
    at: datetime | None = None,
    flag: str | None = None,
    flag_ttl: timedelta = WAITING_FLAG_TTL,
) -> None:
    """Enqueue ``job`` (scheduled for ``at`` if given) unless one is already waiting for it:
    its flag (``flag``, by default the job's waiting flag) is set, for ``flag_ttl``, by the
    first caller only."""
    queue = queues.queue(job.queue, redis_url)
    flag = flag or job.waiting_flag
    if not queue.connection.set(flag, 1, nx=True, ex=max(1, int(flag_ttl.total_seconds()))):
        return
    if at is None:
        queue.enqueue(job.function, **job.options)
    else:
        queue.enqueue_at(at, job.function, **job.options)


def job_started(job: BatchJob) -> None:
    """Called by a batch job before it looks for work: a commit after this point must wake
    another job, since this one may not see it."""
    from flask import current_app

    redis_url = current_app.extensions["grc_settings"].redis_url
    if redis_url:
        queues.connection(redis_url).delete(job.waiting_flag)


class RqDelivery:
    """Messages due now wake one delivery job (unless one is already waiting); messages due
    later (quiet hours) get a job scheduled for their time by RQ's scheduler, one per time
    however many commits ask for it."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url

    def __call__(self, messages: list[tuple[int, datetime]]) -> None:
        now = utcnow()
        later = sorted({available_at for _, available_at in messages if available_at > now})
        if len(later) < len(messages):
            self.wake()
        for moment in later:
            self.deliver_at(moment, now)

    def wake(self) -> None:
        wake_one_job(DELIVERY, self.redis_url)

    def deliver_at(self, moment: datetime, now: datetime) -> None:
        """Schedule a delivery job at ``moment`` unless one is already scheduled for it.

        Every text held by the night's quiet hours is due at the same morning minute: one
        job then takes them all, where a job per claim would wake thousands of workers for
        nothing. The flag outlives the moment by a margin; if the job were lost with it set,
        the sweeper would still hand the messages over.
        """
        wake_one_job(
            DELIVERY,
            self.redis_url,
            at=moment,
            flag=SCHEDULED_FLAG.format(int(moment.timestamp())),
            flag_ttl=moment - now + WAITING_FLAG_TTL,
        )


# True while in-process work runs at a request's teardown: what that work commits is handed
# over at once, since no later teardown would pick it up.
_in_teardown: ContextVar[bool] = ContextVar("grc_in_teardown", default=False)


def _during_request() -> bool:
    return has_request_context() and not _in_teardown.get()


@contextmanager
def _after_request() -> Iterator[None]:
    token = _in_teardown.set(True)
    try:
        yield
    finally:
        _in_teardown.reset(token)


class _InProcessJob:
    """Without Redis: run a batch job in the same process once the commit is over, in a
    fresh application context (so a session and a connection of its own). During a request
    that is at its teardown, when the request's connection is back in the pool; elsewhere
    (CLI) at once. What it leaves for later waits for the sweeper (``flask grc sweep``)."""

    what = "job"

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._flag = f"grc_after_request_{type(self).__name__}"
        app.teardown_request(self._run_at_teardown)

    def run_soon(self) -> None:
        if _during_request():
            setattr(g, self._flag, True)
            return
        self._run()

    def _run_at_teardown(self, _error: BaseException | None) -> None:
        if g.pop(self._flag, False):
            from grc.extensions import db

            # The request has committed: end whatever read followed so its connection goes
            # back to the pool before the job takes one, or concurrent requests could starve
            # the pool.
            db.session.rollback()
            with _after_request():
                self._run()

    def _run(self) -> None:
        with self.app.app_context():
            try:
                self._job()
            except Exception:
                log.exception("in-process %s failed; the sweeper will retry", self.what)

    def _job(self) -> None:
        raise NotImplementedError


class InProcessDelivery(_InProcessJob):
    """Delivers committed outbox messages that are due now; delayed ones (quiet hours) wait
    for the sweeper."""

    what = "delivery"

    def __call__(self, messages: list[tuple[int, datetime]]) -> None:
        if any(available_at <= utcnow() for _, available_at in messages):
            self.run_soon()

    def wake(self) -> None:
        self.run_soon()

    def _job(self) -> None:
        from workers.jobs import DeliveryDeferred, deliver_due_messages

        try:
            deliver_due_messages()
        except DeliveryDeferred as deferred:  # pending again; the sweeper retries
            log.info("in-process delivery: %s", deferred)


class RqInbound:
    """Stored e-mails wake one processing job of the ``inbound`` queue (unless one is
    already waiting): each job takes every e-mail due, in batches."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url

    def __call__(self, _email_ids: list[int]) -> None:
        self.wake()

    def wake(self) -> None:
        wake_one_job(INBOUND, self.redis_url)


class InProcessInbound(_InProcessJob):
    """Processes stored e-mails once the request that stored them is over."""

    what = "processing of inbound e-mail"

    def __call__(self, _email_ids: list[int]) -> None:
        self.run_soon()

    def wake(self) -> None:
        self.run_soon()

    def _job(self) -> None:
        from workers.jobs import process_received_emails

        process_received_emails()


class RqExports:
    """An export job on the ``exports`` queue (its own: it may take minutes)."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url

    def __call__(self, job_id: int) -> None:
        queues.queue(queues.EXPORTS, self.redis_url).enqueue(
            "workers.exports.run_export",
            job_id,
            job_timeout=queues.EXPORT_TIMEOUT,
            **BATCH_JOB_TTLS,
        )


class ThreadExports:
    """Without Redis: the export is written by a thread of this process, with a context of
    its own, so that the request answers at once and its page shows the progress."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def __call__(self, job_id: int) -> None:
        threading.Thread(
            target=self._run, args=(job_id,), name=f"export-{job_id}", daemon=True
        ).start()

    def _run(self, job_id: int) -> None:
        from workers.exports import run_export

        with self.app.app_context():
            run_export(job_id)


def exports_runner_for(app: Flask, redis_url: str | None) -> RqExports | ThreadExports:
    return RqExports(redis_url) if redis_url else ThreadExports(app)


def dispatchers_for(app: Flask, redis_url: str | None) -> worktable.Dispatchers:
    """RQ with ``redis_url``, else in-process."""
    if redis_url:
        return worktable.Dispatchers(delivery=RqDelivery(redis_url), inbound=RqInbound(redis_url))
    return worktable.Dispatchers(delivery=InProcessDelivery(app), inbound=InProcessInbound(app))
