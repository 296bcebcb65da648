"""Hand-over of committed outbox messages to the delivery job."""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Flask, g, has_request_context
from rq import Retry

from grc.db import utcnow
from workers import queues

log = logging.getLogger(__name__)

# Provider errors are retried by RQ with growing delays; the job marks the message failed
# once the configured number of attempts is used up.
DELIVERY_RETRY = Retry(max=5, interval=[10, 30, 120, 600, 1800])


class RqDispatcher:
    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url

    def __call__(self, messages: list[tuple[int, datetime]]) -> None:
        queue = queues.queue(queues.NOTIFICATIONS, self.redis_url)
        now = utcnow()
        with queue.connection.pipeline() as pipe:
            for message_id, available_at in messages:
                options = {
                    "job_timeout": queues.DELIVERY_TIMEOUT,
                    "retry": DELIVERY_RETRY,
                    "result_ttl": 0,
                    "failure_ttl": 7 * 86400,
                    "pipeline": pipe,
                }
                if available_at > now:
                    # Quiet hours: RQ's scheduler (rq worker --with-scheduler) releases it.
                    queue.enqueue_at(
                        available_at, "workers.jobs.deliver_message", message_id, **options
                    )
                else:
                    queue.enqueue("workers.jobs.deliver_message", message_id, **options)
            pipe.execute()


class InProcessDispatcher:
    """Without Redis: deliver in the same process once the commit is over, in a fresh
    application context (so a session and a connection of its own). During a request that
    is at its teardown, when the request's connection is back in the pool; elsewhere (CLI)
    at once. Delayed messages wait for the sweeper (``flask grc sweep``)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        app.teardown_request(self._deliver_at_teardown)

    def __call__(self, messages: list[tuple[int, datetime]]) -> None:
        if has_request_context():
            g.setdefault("grc_in_process_deliveries", []).extend(messages)
            return
        self._deliver(messages)

    def _deliver_at_teardown(self, _error: BaseException | None) -> None:
        messages = g.pop("grc_in_process_deliveries", None)
        if messages:
            from grc.extensions import db

            # The request has committed: end whatever read followed so its connection goes
            # back to the pool before the delivery takes one, or concurrent requests could
            # starve the pool.
            db.session.rollback()
            self._deliver(messages)

    def _deliver(self, messages: list[tuple[int, datetime]]) -> None:
        from workers.jobs import deliver_message

        now = utcnow()
        for message_id, available_at in messages:
            if available_at > now:
                continue
            with self.app.app_context():
                try:
                    deliver_message(message_id)
                except Exception:  # left pending; the sweeper retries
                    log.exception("in-process delivery of message %s failed", message_id)
