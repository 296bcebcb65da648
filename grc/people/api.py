"""Tenant search for the call centre and the units."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from grc.arguments import Blueprint
from grc.auth import Permission, require
from grc.clock import local_today
from grc.db import utcnow
from grc.extensions import db
from grc.people.schemas import TenantMatchSchema, TenantSearchArgsSchema, lease_dwelling
from grc.people.search import search_tenants

blp = Blueprint("tenants", __name__, url_prefix="/api/v1/tenants", description="Tenants")


@blp.route("")
class TenantSearch(MethodView):
    @require(Permission.TENANTS_SEARCH)
    @blp.arguments(TenantSearchArgsSchema(), location="query")
    @blp.response(200, TenantMatchSchema(many=True))
    def get(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        """Find tenants by phone (any format), part of a name, address or claim reference."""
        today = local_today(utcnow())
        return [
            {
                "matched_by": m.matched_by,
                "tenant": m.tenant,
                "dwelling": lease_dwelling(m.lease),
            }
            for m in search_tenants(db.session, args["q"], today)
        ]
