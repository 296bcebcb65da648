"""Export jobs: ask for one (once per request while it runs), write its file in batches
with its progress committed as it goes, expire it. Functions flush and never commit, but
``write_export``, which a background job runs and whose progress is its own short
transactions (the job owns them: it calls nothing else).

The hand-over to a worker after the commit is ``hand_over``: the ``workers`` package
registers how (RQ, or a thread of the same process without Redis); the core knows nothing of
either.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from grc.db import rows_changed, utcnow
from grc.exports import registry
from grc.exports.models import ACTIVE_STATUSES, ExportFormat, ExportJob, ExportStatus
from grc.exports.writers import PROGRESS_EVERY, counted, safe_filename, write_csv, write_xlsx
from grc.people.models import User

log = logging.getLogger(__name__)

# Above this many rows an export is written by a background job; up to it, streamed at once.
STREAM_LIMIT = 10_000
# Rows between two progress commits of a background job.
BATCH_ROWS = PROGRESS_EVERY
# Rows read by each of its statements. A batch is held whole (about 3 MB a thousand rows),
# and each statement costs PostgreSQL some 10 ms of planning (seven joins): 2,000 keeps the
# worker's peak some 10 MB lower than 5,000 did, for 300 more statements a million rows.
READ_ROWS = 2000
# How long a finished file stays to be downloaded.
KEEP_FILES = timedelta(hours=24)
# A running job silent this long (no progress written) was lost with its worker.
SILENT_AFTER = timedelta(minutes=15)
# A job still pending after this long was lost on its way to a worker: handed over again.
PENDING_AFTER = timedelta(minutes=2)


def exports_directory(app: Flask | None = None) -> Path:
    directory = Path((app or current_app).instance_path) / "exports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def filters_key(args: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(args, sort_keys=True).encode()).hexdigest()


def request_export(
    session: Session,
    user: User,
    source: registry.ExportSource,
    request: registry.Request,
    export_format: ExportFormat,
    locale: str,
    now: datetime,
) -> tuple[ExportJob, bool]:
    """The job writing this export for ``user``: a new one (True), or the one already under
    way for the same request (False: a double click, a second tab). The unique index on the
    active requests decides, in one statement, with no read beforehand."""
    table = cast("sa.Table", ExportJob.__table__)  # a mapped class's Table
    values = {
        "user_id": user.id,
        "kind": source.name,
        "filters": request.args,
        "filters_key": filters_key(request.args),
        "format": export_format.value,
        "locale": locale,
        "status": ExportStatus.PENDING.value,
        "rows_done": 0,
        "download_name": safe_filename(str(source.title), now, _tz(), export_format.value),
        "created_at": now,
        "updated_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    statement = insert.on_conflict_do_nothing().returning(table.c.id)
    for _attempt in range(3):
        with session.no_autoflush:
            job_id = session.execute(statement, values).scalar_one_or_none()
        if job_id is not None:
            return session.get_one(ExportJob, job_id), True
        running = session.execute(
            sa.select(ExportJob).where(
                ExportJob.user_id == user.id,
                ExportJob.kind == source.name,
                ExportJob.filters_key == values["filters_key"],
                ExportJob.format == export_format,
                ExportJob.status.in_(ACTIVE_STATUSES),
            )
        ).scalar_one_or_none()
        if running is not None:
            return running, False
        # The job met finished between the two statements: ask again.
    raise RuntimeError("export request kept conflicting")


def get_job_for(session: Session, user: User, job_id: int) -> ExportJob:
    """``user``'s own job (anyone else's is not found)."""
    from grc.errors import NotFound

    job = session.execute(
        sa.select(ExportJob).where(ExportJob.id == job_id, ExportJob.user_id == user.id)
    ).scalar_one_or_none()
    if job is None:
        raise NotFound(f"No export {job_id}.")
    return job


def start_job(session: Session, job_id: int, now: datetime) -> bool:
    """Take a pending job (False if it is not pending: taken by another worker, done)."""
    result = session.execute(
        sa.update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.status == ExportStatus.PENDING)
        .values(status=ExportStatus.RUNNING, started_at=now, updated_at=now)
    )
    return rows_changed(result) == 1


def write_export(
    session: Session,
    job_id: int,
    directory: Path,
    clock: Callable[[], datetime] = utcnow,
) -> ExportJob:
    """Write the file of a running job: its rows read ``READ_ROWS`` at a time, its progress
    committed every ``BATCH_ROWS`` rows in a short transaction, the file renamed into place
    and the job marked done in the last one. On an error the partial file is deleted and the error
    raised (the caller records the failure)."""
    from flask_babel import force_locale

    job = session.get_one(ExportJob, job_id)
    source = registry.get(job.kind)
    user = job.user
    stem = secrets.token_hex(16)
    final = directory / f"{stem}.{job.format.value}"
    partial = directory / f"{stem}.part"
    with force_locale(job.locale):
        request = source.parse(session, user, job.filters)
        now = clock()
        total = source.count(session, user, request.parsed, now) if source.count else None
        session.execute(sa.update(ExportJob).where(ExportJob.id == job_id).values(rows_total=total))
        session.commit()

        def progress(done: int) -> None:
            session.execute(
                sa.update(ExportJob)
                .where(ExportJob.id == job_id)
                .values(rows_done=done, updated_at=clock())
            )
            session.commit()

        read = source.read_in_batches
        export = (
            read(session, user, request.parsed, now, READ_ROWS)
            if read is not None
            else source.read(session, user, request.parsed, now)
        )
        rows = counted(export.rows, progress, BATCH_ROWS)
        try:
            if job.format == ExportFormat.CSV:
                write_csv(partial, export.columns, rows, _tz())
            else:
                write_xlsx(
                    partial,
                    export.columns,
                    rows,
                    _tz(),
                    sheet=str(source.title),
                    tmpdir=directory,
                )
            partial.rename(final)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    finished = clock()
    session.execute(
        sa.update(ExportJob)
        .where(ExportJob.id == job_id)
        .values(
            status=ExportStatus.DONE,
            file_name=final.name,
            finished_at=finished,
            updated_at=finished,
            expires_at=finished + KEEP_FILES,
        )
    )
    return session.get_one(ExportJob, job_id, populate_existing=True)


def record_failure(session: Session, job_id: int, error: BaseException, now: datetime) -> None:
    session.execute(
        sa.update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.status.in_(ACTIVE_STATUSES))
        .values(
            status=ExportStatus.FAILED,
            error=type(error).__name__[:200],
            finished_at=now,
            updated_at=now,
        )
    )


def file_path(job: ExportJob, directory: Path) -> Path | None:
    """The finished file of ``job`` in ``directory`` (None unless done and still there)."""
    if job.status != ExportStatus.DONE or not job.file_name:
        return None
    path = directory / job.file_name
    return path if path.is_file() else None


def housekeeping(session: Session, directory: Path, now: datetime) -> dict[str, Any]:
    """Delete the files past their expiry (the job says ``expired``), fail the running jobs
    whose worker went silent, and give the ids of pending jobs left waiting (lost on their
    way to a worker) to be handed over again."""
    expired = session.execute(
        sa.update(ExportJob)
        .where(ExportJob.status == ExportStatus.DONE, ExportJob.expires_at <= now)
        .values(status=ExportStatus.EXPIRED, updated_at=now)
        .returning(ExportJob.file_name)
    ).scalars()
    deleted = 0
    for name in expired:
        if name:
            (directory / name).unlink(missing_ok=True)
            deleted += 1
    silent = session.execute(
        sa.update(ExportJob)
        .where(
            ExportJob.status == ExportStatus.RUNNING,
            ExportJob.updated_at < now - SILENT_AFTER,
        )
        .values(status=ExportStatus.FAILED, error="interrupted", finished_at=now, updated_at=now)
    )
    waiting = list(
        session.execute(
            sa.select(ExportJob.id).where(
                ExportJob.status == ExportStatus.PENDING,
                ExportJob.created_at < now - PENDING_AFTER,
            )
        ).scalars()
    )
    # Files of no job (a worker killed while writing): removed once they are old enough.
    kept = {
        name
        for name in session.execute(
            sa.select(ExportJob.file_name).where(ExportJob.status == ExportStatus.DONE)
        ).scalars()
        if name
    }
    for path in directory.iterdir():
        if path.name not in kept and path.stat().st_mtime < (now - SILENT_AFTER).timestamp():
            path.unlink(missing_ok=True)
            deleted += 1
    return {"deleted": deleted, "interrupted": rows_changed(silent), "pending": waiting}


# --- the hand-over to a worker -----------------------------------------------------------------

_RUNNER = "grc_export_runner"
Runner = Callable[[int], None]


def set_runner(app: Flask, runner: Runner) -> None:
    """How a committed job reaches a worker (``workers`` registers it)."""
    app.extensions[_RUNNER] = runner


def hand_over(job_id: int) -> None:
    """After the commit that wrote the job: wake a worker for it. A failure leaves the job
    pending; the housekeeping job hands it over again."""
    runner = current_app.extensions.get(_RUNNER)
    if runner is None:
        log.warning("export %s: no runner registered", job_id)
        return
    try:
        runner(job_id)
    except Exception:
        log.exception("export %s: hand-over failed; the housekeeping job retries", job_id)


def _tz() -> Any:
    from grc.clock import settings

    return settings().tz
