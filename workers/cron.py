"""Periodic jobs for ``rq cron workers/cron.py`` (run exactly one such process).

Both jobs are safe to run twice: the sweeper only wakes delivery jobs, which claim messages
atomically, and recovers silent deliveries with conditional updates; the SLA watch writes
messages keyed by claim and deadline.
"""

from rq import cron

from workers import jobs, queues

cron.register(
    jobs.sweep_outbox, queue_name=queues.DEFAULT, interval=30, job_timeout=queues.PERIODIC_TIMEOUT
)
cron.register(
    jobs.watch_sla, queue_name=queues.DEFAULT, interval=60, job_timeout=queues.PERIODIC_TIMEOUT
)
cron.register(
    jobs.watch_work_orders,
    queue_name=queues.DEFAULT,
    interval=60,
    job_timeout=queues.PERIODIC_TIMEOUT,
)
