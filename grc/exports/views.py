"""Exports: ``/reports/<name>/export.csv|xlsx`` for every registered source (the claim list
is ``claims``), streamed at once up to ``STREAM_LIMIT`` rows, else written by a background
job whose page (``/exports/<id>``) shows its progress and, when ready, the download link.

A GET of an export address streams a small export; for a large one it shows what will
happen and a button that posts to the same address (a GET changes nothing). The post asks
for the job; a second post while it runs (a double click) gets the same job.
"""

from __future__ import annotations

import io
import os
import tempfile
from http import HTTPStatus
from pathlib import Path
from typing import Any

from flask import (
    Response,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _

from grc.auth import current_user
from grc.clock import settings
from grc.db import utcnow
from grc.errors import InvalidInput, NotFound
from grc.exports import claim_list, operations, registry
from grc.exports.models import ExportFormat, ExportJob
from grc.exports.writers import csv_chunks, safe_filename, write_xlsx
from grc.extensions import db
from grc.web import current_language
from grc.web.pages import can, error_page, page, page_blueprint

blp = page_blueprint("exports", __name__)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Every file and progress page is the asker's alone: no cache keeps a copy.
NO_STORE = {"Cache-Control": "no-store"}

__all__ = ["blp", "claim_list"]  # the claim list registers itself on import


@blp.route(
    "/reports/<string(maxlength=60):name>/export.<any(csv, xlsx):fmt>", methods=["GET", "POST"]
)
@page()
def export(name: str, fmt: str) -> Any:
    source = registry.get(name)
    if not can(source.permission):
        return error_page(HTTPStatus.FORBIDDEN)
    user = current_user()
    export_format = ExportFormat(fmt)
    try:
        asked = source.parse(db.session, user, request.args.to_dict())
    except InvalidInput as error:
        return error_page(HTTPStatus.UNPROCESSABLE_ENTITY, _invalid(error))
    now = utcnow()
    total = source.count(db.session, user, asked.parsed, now) if source.count else None
    if total is None or total <= operations.STREAM_LIMIT:
        return _stream(source, asked, export_format, now)
    if request.method == "GET":
        return render_template(
            "exports/confirm.html",
            source=source,
            total_text=format_decimal(total),
            limit_text=format_decimal(operations.STREAM_LIMIT),
            fmt=export_format,
            action=url_for("exports.export", name=name, fmt=fmt, **dict[str, Any](asked.args)),
        )
    job, created = operations.request_export(
        db.session, user, source, asked, export_format, current_language(), now
    )
    db.session.commit()
    if created:
        operations.hand_over(job.id)
    return redirect(url_for("exports.job_page", job_id=job.id), code=HTTPStatus.SEE_OTHER)


def _invalid(error: InvalidInput) -> str:
    fields = sorted(error.errors.get("json", {})) if isinstance(error.errors, dict) else []
    return _("Check these filters: %(fields)s.", fields=", ".join(fields) or "?")


def _stream(
    source: registry.ExportSource, asked: registry.Request, fmt: ExportFormat, now: Any
) -> Response:
    tz = settings().tz
    table = source.read(db.session, current_user(), asked.parsed, now)
    name = safe_filename(str(source.title), now, tz, fmt.value)
    if fmt == ExportFormat.CSV:
        chunks = (chunk.encode() for chunk in csv_chunks(table.columns, table.rows, tz))
        response = Response(
            stream_with_context(chunks), content_type="text/csv; charset=utf-8", headers=NO_STORE
        )
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    directory = operations.exports_directory()
    handle, path = tempfile.mkstemp(suffix=".xlsx", dir=directory)
    os.close(handle)
    try:
        write_xlsx(
            Path(path),
            table.columns,
            table.rows,
            tz,
            sheet=str(source.title),
            tmpdir=directory,
        )
        # At most STREAM_LIMIT rows: a megabyte or two, read back whole, the file removed.
        data = io.BytesIO(Path(path).read_bytes())
    finally:
        os.unlink(path)
    response = send_file(
        data, mimetype=XLSX_TYPE, as_attachment=True, download_name=name, max_age=0
    )
    response.headers.update(NO_STORE)
    return response


def _job(job_id: int) -> ExportJob:
    return operations.get_job_for(db.session, current_user(), job_id)


@blp.get("/exports/<int:job_id>")
@page()
def job_page(job_id: int) -> Any:
    job = _job(job_id)
    return render_template("exports/job.html", job=job, **_progress(job)), HTTPStatus.OK, NO_STORE


@blp.get("/exports/<int:job_id>/progress")
@page()
def job_progress(job_id: int) -> Any:
    """The progress part of the page, polled every second by htmx until the job ends."""
    job = _job(job_id)
    return (
        render_template("exports/_progress.html", job=job, **_progress(job)),
        HTTPStatus.OK,
        NO_STORE,
    )


def _progress(job: ExportJob) -> dict[str, Any]:
    total = job.rows_total
    percent = int(100 * job.rows_done / total) if total else (100 if job.finished else 0)
    return {
        "percent": min(percent, 100),
        "total": total,
        "done_text": format_decimal(job.rows_done),
        "total_text": format_decimal(total) if total is not None else "",
    }


@blp.get("/exports/<int:job_id>/download")
@page()
def download(job_id: int) -> Any:
    job = _job(job_id)
    path = operations.file_path(job, operations.exports_directory())
    if path is None:
        raise NotFound(f"No file for export {job_id}.")
    mimetype = XLSX_TYPE if job.format == ExportFormat.XLSX else "text/csv; charset=utf-8"
    response = send_file(
        path, mimetype=mimetype, as_attachment=True, download_name=job.download_name, max_age=0
    )
    response.headers.update(NO_STORE)
    return response
