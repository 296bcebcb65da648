"""Agencies for staff: every role reads them; administrators set who is on call."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from sqlalchemy.orm import joinedload

from grc.arguments import Blueprint
from grc.auth import Permission, require
from grc.errors import NotFound
from grc.extensions import db
from grc.housing.models import Agency
from grc.housing.operations import update_agency
from grc.housing.schemas import AgencyChangeSchema, AgencySchema

blp = Blueprint(
    "agencies", __name__, url_prefix="/api/v1/agencies", description="Agencies and their on-call"
)


@blp.route("")
class AgencyList(MethodView):
    @require(Permission.CATALOGUE_READ)
    @blp.response(200, AgencySchema(many=True))
    def get(self) -> list[Agency]:
        """Agencies with their territory and on-call number."""
        return list(
            db.session.execute(
                sa.select(Agency).options(joinedload(Agency.territory)).order_by(Agency.code)
            ).scalars()
        )


@blp.route("/<int(max=2147483647):agency_id>")
class AgencyItem(MethodView):
    @require(Permission.CATALOGUE_WRITE)
    @blp.arguments(AgencyChangeSchema())
    @blp.response(200, AgencySchema)
    def patch(self, payload: dict[str, Any], agency_id: int) -> Agency:
        """Set (or clear, with null) who is on call for the agency's out-of-hours emergencies."""
        agency = db.session.get(Agency, agency_id)
        if agency is None:
            raise NotFound(f"No agency with id {agency_id}.")
        update_agency(db.session, agency, payload)
        db.session.commit()
        return agency
