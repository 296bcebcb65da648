"""The RQ worker class GRC runs: one queue per process, jobs run in the worker process, and
a worker that outlives Redis outages and never leaves a process behind it.

RQ pops a job atomically only from a single queue; a worker listening to several queues
that dies can lose the job it popped, so a second queue is refused at start. Jobs run in
the worker itself (no fork per job) to keep the application and its connection pool warm.

RQ's own worker waits for Redis only while it waits for a job; a Redis error anywhere else
(the bookkeeping after a job, a heartbeat, the maintenance tasks) ends its work loop, and
the worker exits. Ours waits for Redis wherever it is lost, then carries on: the job it was
running when Redis went away has already written its outcomes to the database, and the
sweeper hands over again whatever the queue lost.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import redis.exceptions
from rq.exceptions import StopRequested
from rq.scheduler import RQScheduler
from rq.worker import DequeueStrategy, SimpleWorker, WorkerStatus

log = logging.getLogger(__name__)

REDIS_LOST = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
FIRST_WAIT_SECONDS = 0.5
LONGEST_WAIT_SECONDS = 5.0


def redis_pauses() -> Iterator[float]:
    """The waits between attempts to reach a lost Redis: short enough that work resumes
    within seconds of its return, long enough not to flood the log of a long outage."""
    wait = FIRST_WAIT_SECONDS
    while True:
        yield wait
        wait = min(wait * 2, LONGEST_WAIT_SECONDS)


class SingleQueueWorkerError(RuntimeError):
    pass


def run_worker(
    queues: str | list[str], redis_url: str, burst: bool = False, with_scheduler: bool = False
) -> None:
    """Start a worker on ``queues`` (exactly one) and run it until it is stopped (or, with
    ``burst``, until the queue is empty); a worker started while Redis is down (a host
    booting, Redis restarting) waits for it."""
    from workers.queues import connection

    for pause in redis_pauses():
        try:
            worker = SingleQueueWorker(queues, connection=connection(redis_url))
            break
        except REDIS_LOST as error:
            log.warning("Redis is unreachable (%s); waiting for it", error)
            time.sleep(pause)
    worker.work(burst=burst, with_scheduler=with_scheduler)


class SingleQueueWorker(SimpleWorker):
    # RQ's wait for Redis while dequeuing grows to a minute; ours stays short (see above).
    max_connection_wait_time = LONGEST_WAIT_SECONDS

    def __init__(self, queues: Any, *args: Any, **kwargs: Any) -> None:
        names = [queues] if isinstance(queues, str) else list(queues)
        if len(names) != 1:
            raise SingleQueueWorkerError(
                f"a GRC worker listens to exactly one queue, got {len(names)}: start one "
                "process per queue"
            )
        super().__init__(queues, *args, **kwargs)

    def work(
        self,
        burst: bool = False,
        logging_level: str | None = None,
        date_format: str | None = None,
        log_format: str | None = None,
        max_jobs: int | None = None,
        max_idle_time: int | None = None,
        with_scheduler: bool = False,
        dequeue_strategy: DequeueStrategy | None = None,
        **options: Any,
    ) -> bool:
        """RQ's work loop (same arguments, so ``rq worker -w`` runs it too), where losing
        Redis, at start or at any point after, means waiting for it rather than exiting."""
        formats = {
            name: value
            for name, value in (("date_format", date_format), ("log_format", log_format))
            if value is not None
        }
        if dequeue_strategy is not None:
            self._dequeue_strategy = dequeue_strategy
        self._install_signal_handlers()
        try:
            self._until_redis_answers(lambda: self.bootstrap(logging_level, **formats))
            if with_scheduler:
                self._until_redis_answers(
                    lambda: self._start_scheduler(burst, logging_level, **formats)
                )
        except StopRequested:
            return False
        completed_jobs = 0
        try:
            while True:
                try:
                    self.check_for_suspension(burst)
                    if self.should_run_maintenance_tasks:
                        self.run_maintenance_tasks()
                    if self._stop_requested:
                        self.log.info("Worker %s: stopping on request", self.name)
                        break
                    timeout = None if burst else self.dequeue_timeout
                    result = self.dequeue_job_and_maintain_ttl(timeout, max_idle_time)
                    if result is None:
                        break
                    job, queue = result
                    self.execute_job(job, queue)
                    self.heartbeat()
                    completed_jobs += 1
                    if max_jobs is not None and completed_jobs >= max_jobs:
                        break
                except REDIS_LOST as error:
                    self._wait_for_redis(error)
                except StopRequested:
                    break
        except StopRequested:  # a stop asked for while waiting for Redis
            pass
        finally:
            self.teardown()
        return bool(completed_jobs)

    def _until_redis_answers(self, step: Any) -> None:
        """Run a start-up step, again once Redis answers if it was lost (the step registers
        the worker itself)."""
        while True:
            try:
                step()
                return
            except REDIS_LOST as error:
                self._wait_for_redis(error, rejoin=False)

    def _wait_for_redis(self, error: Exception, rejoin: bool = True) -> None:
        """Wait, with growing pauses, until Redis answers again, then (``rejoin``) put this
        worker back in its registry (a restarted Redis may have lost it) and restart a dead
        scheduler. A stop signal ends the wait at once (StopRequested)."""
        # Idle as far as the signal handler is concerned: a stop must not wait for a job
        # that is over, nor try to note the request in the Redis that is gone.
        self._state = WorkerStatus.IDLE
        self.executions.clear()
        self.log.warning("Worker %s: lost Redis (%s); waiting for it", self.name, error)
        for pause in redis_pauses():
            if self._stop_requested:
                raise StopRequested()
            time.sleep(pause)
            try:
                self.connection.ping()
                if rejoin:
                    self._rejoin()
            except REDIS_LOST:
                continue
            self.log.info("Worker %s: Redis is back; resuming", self.name)
            return

    def _rejoin(self) -> None:
        self.heartbeat()
        if self.scheduler is not None and not (
            self.scheduler._process and self.scheduler._process.is_alive()
        ):
            self.scheduler.acquire_locks(auto_start=True)

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        """RQ's heartbeat, which also puts the worker back in RQ's registry when Redis lost
        it (restarted empty, or the entry expired during an outage): the heartbeat alone
        would leave a bare entry that dashboards and ``rq info`` cannot read."""
        super().heartbeat(timeout, pipeline)
        if pipeline is None and not self.connection.hexists(self.key, "birth"):
            self.log.info("Worker %s: registering again after Redis lost it", self.name)
            self.connection.delete(self.key)
            self.register_birth()

    def subscribe(self) -> None:
        """RQ's command channel, listened to by a thread that checks for a stop every second:
        redis-py waits for that thread when the worker stops, for up to its polling time
        (RQ asks for 60 s, which made an idle worker take a minute to stop)."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        # RQ's __init__ sets it to None, which its own code replaces by the thread as here.
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]
            sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler
        )

    def teardown(self) -> None:
        """Stop the scheduler and leave the registry; without Redis, leave anyway (the
        registry entry expires by itself)."""
        try:
            super().teardown()
        except REDIS_LOST as error:
            self.log.warning("Worker %s: stopped without Redis (%s)", self.name, error)

    def set_shutdown_requested_date(self) -> None:
        """Noted in Redis for dashboards; called from the stop signal's handler, where a lost
        Redis must not raise into the job that is running."""
        with contextlib.suppress(*REDIS_LOST):
            super().set_shutdown_requested_date()

    def _start_scheduler(
        self,
        burst: bool = False,
        logging_level: str | None = "INFO",
        date_format: str | None = None,
        log_format: str | None = None,
    ) -> None:
        """RQ's, with a scheduler process that ends with this worker and waits for Redis."""
        formats = {
            name: value
            for name, value in (("date_format", date_format), ("log_format", log_format))
            if value is not None
        }
        self.scheduler = ChildScheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            serializer=self.serializer,
            **formats,
        )
        self.scheduler.acquire_locks()
        if not self.scheduler.acquired_locks:
            return
        if burst:
            try:
                self.scheduler.register_birth()
                self.scheduler.enqueue_scheduled_jobs()
            finally:
                self.scheduler.release_locks()
                self.scheduler.register_death()
        else:
            self.scheduler.start()


class ChildScheduler(RQScheduler):
    """RQ's scheduler process (``--with-scheduler``: it releases jobs scheduled for a time),
    which ends with the worker that started it, even one killed with SIGKILL, and waits
    for a lost Redis instead of exiting."""

    def start(self) -> Any:
        self._parent_pid = os.getpid()
        return super().start()

    def work(self) -> None:
        _end_with_parent(self._parent_pid)
        for pause in redis_pauses():
            try:
                super().work()
                return
            except REDIS_LOST as error:
                if self._stop_requested:
                    return
                self.log.warning("Scheduler: lost Redis (%s); waiting for it", error)
                time.sleep(pause)


# prctl(2) option: the signal a process gets when the thread that created it ends.
_PR_SET_PDEATHSIG = 1


def _end_with_parent(parent_pid: int) -> None:
    """Get SIGTERM (a stop, for the scheduler) as soon as ``parent_pid`` ends: from the
    kernel on Linux, else from a thread that watches the parent."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0:
            if os.getppid() != parent_pid:  # ended before the request was made
                os.kill(os.getpid(), signal.SIGTERM)
            return

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
