"""The reports for the landlord's own tools: ``GET /api/v1/reports/<name>`` with the
filters of the pages, as JSON (columns, rows as objects, the total row)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields

from grc.arguments import Blueprint
from grc.auth import Permission, require
from grc.db import utcnow
from grc.errors import NotFound
from grc.extensions import db
from grc.reports.filters import ReportArgsSchema, resolve
from grc.reports.reports import REPORTS, run

blp = Blueprint(
    "reports",
    __name__,
    url_prefix="/api/v1",
    description="Managers' reports: volumes, SLA, backlog, call centre, satisfaction",
)


class ReportSchema(Schema):
    report = fields.String()
    filters = fields.Dict(keys=fields.String(), values=fields.String())
    columns = fields.List(fields.String())
    rows = fields.List(fields.Dict())
    total = fields.Dict(allow_none=True)


@blp.route("/reports/<string(maxlength=40):name>")
class Report(MethodView):
    @require(Permission.REPORTS_READ)
    @blp.arguments(ReportArgsSchema(), location="query")
    @blp.response(200, ReportSchema)
    def get(self, args: dict[str, Any], name: str) -> dict[str, Any]:
        """One report over the period (``from``, ``to``: local dates, both included; the
        last 30 days by default) and filters, named: ``volumes``, ``sla``, ``backlog``,
        ``overdue``, ``calls``, ``calls-by-agent``, ``first-contact``, ``satisfaction``,
        ``ratings``. ``by`` says what the rows are per (each report takes some); ``422``
        names the field in error, ``404`` an unknown report."""
        if name not in REPORTS:
            raise NotFound(f"No report {name}; reports: {', '.join(REPORTS)}.")
        filters = resolve(db.session, args)
        table = run(name, db.session, filters, utcnow())
        return {
            "report": name,
            "filters": filters.query_args(),
            "columns": list(table.columns),
            "rows": table.dicts(),
            "total": None
            if table.total is None
            else dict(zip(table.columns, table.total, strict=True)),
        }
