"""Background work: RQ queues, thin jobs and the wiring of the after-commit hand-overs.

With ``REDIS_URL`` set, committed outbox messages wake a delivery job on the
``notifications`` queue, stored inbound e-mails are processed on the ``inbound`` queue,
and periodic jobs run from ``rq cron``; without it, the same jobs run in-process right
after the commit, so the one-command demo shows the whole loop.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from grc import worktable
    from grc.cli import grc_cli
    from workers import cli, dispatch

    for command in (
        cli.worker_command,
        cli.sweep_command,
        cli.watch_sla_command,
        cli.watch_work_orders_command,
        cli.retention_command,
    ):
        grc_cli.add_command(command)

    settings = app.extensions["grc_settings"]
    worktable.set_dispatchers(app, dispatch.dispatchers_for(app, settings.redis_url))
