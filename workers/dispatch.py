"""Hand-over of committed outbox messages to the delivery job."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta

from flask import Flask, g, has_request_context
from rq import Retry

from grc.db import utcnow
from grc.messaging.operations import RETRY_DELAYS
from workers import queues

log = logging.getLogger(__name__)

DELIVERY_JOB = "workers.jobs.deliver_due_messages"
# A delivery job that met temporary provider errors is run again by RQ after the same waits
# as the messages' own (``grc.messaging.operations.RETRY_DELAYS``).
DELIVERY_RETRY = Retry(max=len(RETRY_DELAYS), interval=list(RETRY_DELAYS))
# Set while a delivery job waits in the queue: further commits need not enqueue another,
# since that job takes every message due when it starts. Expires in case the job is lost;
# the sweeper covers that gap.
WAITING_FLAG = "grc:delivery-job-waiting"
WAITING_FLAG_TTL = timedelta(seconds=30)


class RqDispatcher:
    """Messages due now wake one delivery job (unless one is already waiting); messages due
    later (quiet hours) get a job scheduled for their time by RQ's scheduler."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url

    def __call__(self, messages: list[tuple[int, datetime]]) -> None:
        now = utcnow()
        later = sorted({available_at for _, available_at in messages if available_at > now})
        if len(later) < len(messages):
            self.deliver_soon()
        if later:
            queue = queues.queue(queues.NOTIFICATIONS, self.redis_url)
            with queue.connection.pipeline() as pipe:
                for moment in later:
                    queue.enqueue_at(moment, DELIVERY_JOB, pipeline=pipe, **_job_options())
                pipe.execute()

    def deliver_soon(self) -> None:
        queue = queues.queue(queues.NOTIFICATIONS, self.redis_url)
        if queue.connection.set(WAITING_FLAG, 1, nx=True, ex=WAITING_FLAG_TTL):
            queue.enqueue(DELIVERY_JOB, **_job_options())


def job_started() -> None:
    """Called by the delivery job before it looks for due messages: a commit after this point
    must wake another job, since this one may not see it."""
    from flask import current_app

    redis_url = current_app.extensions["grc_settings"].redis_url
    if redis_url:
        queues.connection(redis_url).delete(WAITING_FLAG)


def _job_options() -> dict[str, object]:
    return {
        "job_timeout": queues.DELIVERY_TIMEOUT,
        "retry": DELIVERY_RETRY,
        "result_ttl": 0,
        "failure_ttl": 7 * 86400,
    }


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


class InProcessDispatcher:
    """Without Redis: deliver in the same process once the commit is over, in a fresh
    application context (so a session and a connection of its own). During a request that
    is at its teardown, when the request's connection is back in the pool; elsewhere (CLI)
    at once. Delayed messages wait for the sweeper (``flask grc sweep``)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        app.teardown_request(self._deliver_at_teardown)

    def __call__(self, messages: list[tuple[int, datetime]]) -> None:
        if any(available_at <= utcnow() for _, available_at in messages):
            self.deliver_soon()

    def deliver_soon(self) -> None:
        if _during_request():
            g.grc_deliver_after_request = True
            return
        self._deliver()

    def _deliver_at_teardown(self, _error: BaseException | None) -> None:
        if g.pop("grc_deliver_after_request", False):
            from grc.extensions import db

            # The request has committed: end whatever read followed so its connection goes
            # back to the pool before the delivery takes one, or concurrent requests could
            # starve the pool.
            db.session.rollback()
            with _after_request():
                self._deliver()

    def _deliver(self) -> None:
        from workers.jobs import DeliveryDeferred, deliver_due_messages

        with self.app.app_context():
            try:
                deliver_due_messages()
            except DeliveryDeferred as deferred:  # pending again; the sweeper retries
                log.info("in-process delivery: %s", deferred)
            except Exception:
                log.exception("in-process delivery failed; the sweeper will retry")


INBOUND_JOB = "workers.jobs.process_inbound_email"
INBOUND_RETRY = Retry(max=3, interval=[10, 60, 300])


class RqInboundDispatcher:
    """Each stored inbound e-mail is processed by a job of the ``inbound`` queue."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url

    def __call__(self, email_ids: list[int]) -> None:
        queue = queues.queue(queues.INBOUND, self.redis_url)
        with queue.connection.pipeline() as pipe:
            for email_id in email_ids:
                queue.enqueue(
                    INBOUND_JOB,
                    email_id,
                    job_timeout=queues.INBOUND_TIMEOUT,
                    retry=INBOUND_RETRY,
                    result_ttl=0,
                    failure_ttl=7 * 86400,
                    pipeline=pipe,
                )
            pipe.execute()


class InProcessInboundDispatcher:
    """Without Redis: process stored e-mails once the request that stored them is over."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        app.teardown_request(self._process_at_teardown)

    def __call__(self, email_ids: list[int]) -> None:
        if _during_request():
            g.setdefault("grc_inbound_after_request", []).extend(email_ids)
            return
        self._process(email_ids)

    def _process_at_teardown(self, _error: BaseException | None) -> None:
        email_ids = g.pop("grc_inbound_after_request", None)
        if email_ids:
            from grc.extensions import db

            db.session.rollback()
            with _after_request():
                self._process(email_ids)

    def _process(self, email_ids: list[int]) -> None:
        from workers.jobs import process_inbound_email

        for email_id in email_ids:
            with self.app.app_context():
                try:
                    process_inbound_email(email_id)
                except Exception:  # kept as received; the sweeper tries again
                    log.exception("in-process processing of inbound e-mail %s failed", email_id)
