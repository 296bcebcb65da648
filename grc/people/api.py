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

SEARCH_LIMIT = 20
TRUNCATED_HEADER = "X-Results-Truncated"

blp = Blueprint("tenants", __name__, url_prefix="/api/v1/tenants", description="Tenants")


@blp.route("")
class TenantSearch(MethodView):
    @require(Permission.TENANTS_SEARCH)
    @blp.arguments(TenantSearchArgsSchema(), location="query")
    @blp.response(
        200,
        TenantMatchSchema(many=True),
        headers={
            TRUNCATED_HEADER: {
                "description": "`true` when more tenants matched than the "
                f"{SEARCH_LIMIT} listed (narrow the search), else `false`",
                "schema": {"type": "string", "enum": ["true", "false"]},
            }
        },
    )
    def get(self, args: dict[str, Any]) -> tuple[list[dict[str, Any]], int, dict[str, str]]:
        """Find tenants by phone (any format), part of a name, address or claim reference;
        at most 20, and the X-Results-Truncated header says when there were more."""
        today = local_today(utcnow())
        found = search_tenants(db.session, args["q"], today, limit=SEARCH_LIMIT)
        matches = [
            {
                "matched_by": m.matched_by,
                "tenant": m.tenant,
                "dwelling": lease_dwelling(m.lease),
            }
            for m in found.matches
        ]
        return matches, 200, {TRUNCATED_HEADER: "true" if found.truncated else "false"}
