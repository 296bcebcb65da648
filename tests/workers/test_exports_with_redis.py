"""An export too large to stream, with Redis: the hand-over after the commit puts one job on
the ``exports`` queue, and a worker started as production starts it writes the file."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from grc.db import utcnow
from grc.exports import operations, registry
from grc.exports.models import ExportFormat, ExportJob, ExportStatus
from grc.extensions import db
from tests.factories import build_world
from tests.grc.exports.helpers import claims
from tests.workers.conftest import Workers, wait_until
from workers import queues


def test_an_export_job_is_queued_and_written_by_its_worker(
    queued_app: Flask, workers: Workers, redis_server
) -> None:
    from rq import Queue

    world = build_world(db.session)
    db.session.commit()
    claims(world, 3)
    manager = world.users["manager"]
    source = registry.get("claims")
    asked = source.parse(db.session, manager, {"status": "all"})
    job, created = operations.request_export(
        db.session, manager, source, asked, ExportFormat.CSV, "fr", utcnow()
    )
    db.session.commit()
    assert created
    with queued_app.app_context():  # the deployment's application, with Redis
        operations.hand_over(job.id)

    queue = Queue(queues.EXPORTS, connection=queues.connection(redis_server.url))
    [queued] = queue.get_jobs()
    assert (queued.func_name, queued.args) == ("workers.exports.run_export", (job.id,))
    assert queued.timeout == queues.EXPORT_TIMEOUT

    workers.start(queues.EXPORTS)

    def done() -> bool:
        db.session.rollback()
        return db.session.scalar(sa.select(ExportJob.status)) == ExportStatus.DONE

    wait_until(done, 60, what="the export written by the worker")
    finished = db.session.execute(sa.select(ExportJob)).scalar_one()
    assert (finished.rows_done, finished.rows_total) == (3, 3)
    path = operations.exports_directory(queued_app) / str(finished.file_name)
    assert path.read_bytes().count(b"\r\n") == 4  # the header and three claims
