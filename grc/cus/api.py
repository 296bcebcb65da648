"""The CUS indicators for managers and administrators, per agency and for the landlord."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from grc.arguments import Blueprint
from grc.auth import Permission, require
from grc.clock import settings
from grc.cus.indicators import cus_indicators
from grc.cus.presentation import report_dict
from grc.cus.schemas import CusArgsSchema, CusReportSchema
from grc.db import utcnow
from grc.extensions import db

blp = Blueprint(
    "cus",
    __name__,
    url_prefix="/api/v1",
    description="Regulatory indicators of the convention d'utilité sociale (CUS)",
)


@blp.route("/reports/cus")
class CusIndicators(MethodView):
    @require(Permission.REPORTS_READ)
    @blp.arguments(CusArgsSchema(), location="query")
    @blp.response(200, CusReportSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """A year's CUS indicators for every agency (or the one named by ``agency``) and for
        the whole landlord: lift breakdowns over 4 hours per lift, the tenants' satisfaction
        with the cleanliness of common areas (null without a poll), the claims answered
        within their response deadline. ``422`` naming ``year`` or ``agency``."""
        report = cus_indicators(db.session, args["year"], settings().tz, utcnow())
        return report_dict(report, args.get("agency"))
