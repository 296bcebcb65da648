"""Background work: RQ queues, thin jobs, the cron, and the dispatchers of the work tables.

With ``REDIS_URL`` set, committed outbox messages wake a delivery job on the
``notifications`` queue, stored inbound e-mails are processed on the ``inbound`` queue,
and periodic jobs run from ``rq cron``; without it, the same jobs run in-process right
after the commit, so the one-command demo shows the whole loop. ``init_app`` registers the
dispatchers (``grc.worktable.Dispatchers``) on the application.

May import everything: ``grc`` (operations, never views), ``notifications``, RQ and Redis.
Nothing imports it but ``grc.create_app`` (to call ``init_app``) and the CLI.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from grc import worktable
    from grc.cli import grc_cli
    from grc.exports.operations import set_runner
    from workers import cli, dispatch

    for command in (
        cli.worker_command,
        cli.sweep_command,
        cli.watch_sla_command,
        cli.watch_work_orders_command,
        cli.send_surveys_command,
        cli.send_polls_command,
        cli.retention_command,
        cli.weekly_digest_command,
        cli.export_housekeeping_command,
        cli.measure_handling_command,
    ):
        grc_cli.add_command(command)

    settings = app.extensions["grc_settings"]
    worktable.set_dispatchers(app, dispatch.dispatchers_for(app, settings.redis_url))
    set_runner(app, dispatch.exports_runner_for(app, settings.redis_url))
