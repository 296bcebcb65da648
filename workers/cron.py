"""Periodic jobs for ``rq cron workers/cron.py`` (run exactly one such process).

Every job is safe to run twice: the sweeper (both work tables) only wakes the jobs, which
claim rows atomically, and takes back expired leases and marks what it hands over with
conditional updates; the SLA and work-order
watches write messages keyed by claim and deadline; the survey job moves each survey by a
conditional update and keys its messages by the surveys' ids; the retention job only empties
originals not yet emptied; the ratings job replaces each period's rows in one transaction;
the export housekeeping expires files by conditional updates; the handling-time job writes
only figures still missing; the weekly digest keys its
messages by manager and week.
"""

from rq import cron

from workers import jobs, queues

cron.register(
    jobs.sweep_work_tables,
    queue_name=queues.DEFAULT,
    interval=30,
    job_timeout=queues.PERIODIC_TIMEOUT,
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
cron.register(
    jobs.send_surveys, queue_name=queues.DEFAULT, interval=60, job_timeout=queues.PERIODIC_TIMEOUT
)
cron.register(
    jobs.send_polls, queue_name=queues.DEFAULT, interval=60, job_timeout=queues.PERIODIC_TIMEOUT
)
cron.register(
    jobs.delete_old_inbound_originals,
    queue_name=queues.DEFAULT,
    interval=3600,
    job_timeout=queues.PERIODIC_TIMEOUT,
)
cron.register(
    jobs.compute_ratings,
    queue_name=queues.DEFAULT,
    cron="15 3 * * *",  # daily, at night (UTC)
    job_timeout=queues.PERIODIC_TIMEOUT,
)
cron.register(
    jobs.export_housekeeping,
    queue_name=queues.DEFAULT,
    interval=600,
    job_timeout=queues.PERIODIC_TIMEOUT,
)
cron.register(
    jobs.measure_handling,
    queue_name=queues.DEFAULT,
    interval=3600,
    job_timeout=queues.PERIODIC_TIMEOUT,
)
# Mondays 07:00 Europe/Paris is 05:00 or 06:00 UTC with the season: both runs are scheduled;
# the job sends nothing before 07:00 local, and the second finds its messages already queued.
cron.register(
    jobs.send_weekly_digest,
    queue_name=queues.DEFAULT,
    cron="0 5,6 * * 1",
    job_timeout=queues.PERIODIC_TIMEOUT,
)
