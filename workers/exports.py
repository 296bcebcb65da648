"""The exports worker: the job that writes an export's file, and the process that runs it.

``python -m workers.exports`` is the worker of the ``exports`` queue. It runs in the
application of ``grc.create_exports_app`` (the database, the catalogues and the kinds of
export), not the whole one: a file of a million claims is written within 100 MB
(bench/exports.py), where the whole application alone is some 120 MB. This module imports
nothing of the other jobs, the web, the API or the providers' SDKs, so the worker never
loads them.

Without Redis, the web process writes exports in a thread (``workers.dispatch``), with this
same job.
"""

from __future__ import annotations

import argparse
import logging

from grc.db import utcnow
from grc.extensions import db
from workers.app import job_context

log = logging.getLogger(__name__)


def run_export(job_id: int) -> str:
    """Write the file of an export job (``grc.exports``): taken if still pending (a job
    handed over twice runs once), its progress committed as it goes; a failure is recorded
    on the job, which the page then shows."""
    from grc.exports import operations as exports

    with job_context() as app:
        if not exports.start_job(db.session, job_id, utcnow()):
            db.session.rollback()
            return "not pending"
        db.session.commit()
        try:
            job = exports.write_export(db.session, job_id, exports.exports_directory(app))
            db.session.commit()
        except Exception as error:
            db.session.rollback()
            exports.record_failure(db.session, job_id, error, utcnow())
            db.session.commit()
            log.exception("export %s failed", job_id)
            return "failed"
        log.info("export %s: %d rows written", job_id, job.rows_done)
        return f"rows={job.rows_done}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workers.exports",
        description="Start the worker of the exports queue (REDIS_URL and the database from "
        "the environment, as every GRC process).",
    )
    parser.add_argument("--burst", action="store_true", help="stop once the queue is empty")
    args = parser.parse_args(argv)

    from grc import create_exports_app
    from workers import queues
    from workers.worker import run_worker

    app = create_exports_app()
    redis_url = app.extensions["grc_settings"].redis_url
    if not redis_url:
        parser.error("REDIS_URL is not set: without Redis, the web process writes exports itself")
    # The jobs run in this application's context (``job_context`` takes it).
    with app.app_context():
        run_worker(queues.EXPORTS, redis_url, burst=args.burst)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
