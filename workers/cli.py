"""``flask --app wsgi grc worker|sweep|watch-sla|watch-work-orders|send-surveys|send-polls|
retention|weekly-digest|export-housekeeping|measure-handling``: run the background work by hand."""

from __future__ import annotations

import click
from flask import current_app

from workers import queues


@click.command("worker")
@click.argument("queue", nargs=-1, required=True)
@click.option("--burst", is_flag=True, help="Stop once the queue is empty.")
@click.option(
    "--with-scheduler",
    is_flag=True,
    help="Also release jobs scheduled with enqueue_at (quiet hours, retries).",
)
def worker_command(queue: tuple[str, ...], burst: bool, with_scheduler: bool) -> None:
    """Start an RQ worker on exactly one queue (default, notifications or inbound)."""
    from workers.worker import SingleQueueWorkerError, run_worker

    settings = current_app.extensions["grc_settings"]
    if not settings.redis_url:
        raise click.UsageError("REDIS_URL is not set: without Redis, jobs run in-process.")
    unknown = [name for name in queue if name not in queues.QUEUE_NAMES]
    if unknown:
        raise click.BadParameter(f"unknown queue(s): {', '.join(unknown)}")
    if queues.EXPORTS in queue:
        raise click.UsageError(
            "the exports worker starts with `python -m workers.exports` (it loads only what "
            "an export needs)"
        )
    try:
        run_worker(list(queue), settings.redis_url, burst=burst, with_scheduler=with_scheduler)
    except SingleQueueWorkerError as error:
        raise click.UsageError(str(error)) from error


@click.command("sweep")
def sweep_command() -> None:
    """Hand over again the outbox messages and received e-mails that were left behind
    (expired leases, lost hand-overs); safe to run at any time."""
    from workers.jobs import sweep_work_tables

    click.echo(f"{sweep_work_tables()} row(s) recovered or handed over.")


@click.command("watch-sla")
def watch_sla_command() -> None:
    """Run the SLA watch once."""
    from workers.jobs import watch_sla

    click.echo(watch_sla())


@click.command("watch-work-orders")
def watch_work_orders_command() -> None:
    """Run the contract-deadline watch once (reminders to contractors, escalations)."""
    from workers.jobs import watch_work_orders

    click.echo(watch_work_orders())


@click.command("send-surveys")
def send_surveys_command() -> None:
    """Run the satisfaction-survey job once (send what is due, remind, expire)."""
    from workers.jobs import send_surveys

    click.echo(send_surveys())


@click.command("send-polls")
def send_polls_command() -> None:
    """Run the quality-of-service poll job once (close what is past its date, ask a batch)."""
    from workers.jobs import send_polls

    click.echo(send_polls())


@click.command("retention")
def retention_command() -> None:
    """Apply the retention rule of inbound e-mail (GRC_INBOUND_ORIGINAL_DAYS) now, until no
    e-mail is left to empty."""
    from workers.jobs import delete_old_inbound_originals

    click.echo(delete_old_inbound_originals(until_done=True))


@click.command("weekly-digest")
def weekly_digest_command() -> None:
    """Queue the managers' weekly digest of the week just over (once per manager and week)."""
    from workers.jobs import send_weekly_digest

    click.echo(send_weekly_digest())


@click.command("export-housekeeping")
def export_housekeeping_command() -> None:
    """Delete expired export files, fail silent export jobs, hand over those left pending."""
    from workers.jobs import export_housekeeping

    click.echo(export_housekeeping())


@click.command("measure-handling")
def measure_handling_command() -> None:
    """Measure the handling time of every claim responded to or resolved without it (after
    an upgrade or an import), batch after batch, each committed."""
    from workers.jobs import measure_handling

    click.echo(measure_handling(until_done=True))
