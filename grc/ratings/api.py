"""Supplier ratings for managers and administrators: one contractor's for a period, every
contractor's for a period (sortable), as JSON or CSV; the administrator's settings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Response, request
from flask.views import MethodView

from contractors.rating import GroupKind
from grc.arguments import Blueprint
from grc.auth import Permission, current_user, require
from grc.contracts.models import Contractor
from grc.errors import NotFound
from grc.extensions import db
from grc.ratings import presentation
from grc.ratings.models import ContractorRating
from grc.ratings.operations import current_settings, set_settings, stored_ratings
from grc.ratings.schemas import (
    ContractorRatingsArgsSchema,
    RatingListArgsSchema,
    RatingSchema,
    RatingSettingsSchema,
)

blp = Blueprint(
    "ratings",
    __name__,
    url_prefix="/api/v1",
    description="Supplier ratings per month and quarter",
)


def _wants_csv(args: dict[str, Any]) -> bool:
    if "format" in args:
        return bool(args["format"] == "csv")
    best = request.accept_mimetypes.best_match(["application/json", "text/csv"])
    return best == "text/csv"


def _answer(rows: Sequence[ContractorRating], args: dict[str, Any], name: str) -> Any:
    if _wants_csv(args):
        return Response(
            presentation.to_csv(rows),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return [presentation.as_dict(row) for row in rows]


@blp.route("/contractors/<int(max=2147483647):contractor_id>/ratings")
class ContractorRatings(MethodView):
    @require(Permission.RATINGS_READ)
    @blp.arguments(ContractorRatingsArgsSchema(), location="query")
    @blp.response(200, RatingSchema(many=True))
    @blp.alt_response(200, content_type="text/csv", description="The same rows as CSV.")
    def get(self, args: dict[str, Any], contractor_id: int) -> Any:
        """The contractor's stored ratings for the period: overall, then per category and
        per agency (empty when the period was not computed or had no order)."""
        if db.session.get(Contractor, contractor_id) is None:
            raise NotFound(f"No contractor with id {contractor_id}.")
        period = args["period"]
        rows = stored_ratings(db.session, period, contractor_id=contractor_id)
        return _answer(rows, args, f"ratings-{contractor_id}-{period.label}")


@blp.route("/ratings")
class RatingList(MethodView):
    @require(Permission.RATINGS_READ)
    @blp.arguments(RatingListArgsSchema(), location="query")
    @blp.response(200, RatingSchema(many=True))
    @blp.alt_response(200, content_type="text/csv", description="The same rows as CSV.")
    def get(self, args: dict[str, Any]) -> Any:
        """Every contractor's overall rating for the period; ``sort``: score (best
        first), name, grade (A first, no grade last)."""
        period = args["period"]
        rows = presentation.sort(
            stored_ratings(db.session, period, group=GroupKind.OVERALL), args["sort"]
        )
        return _answer(rows, args, f"ratings-{period.label}")


@blp.route("/ratings/settings")
class RatingSettingsResource(MethodView):
    @require(Permission.RATINGS_ADMIN)
    @blp.response(200, RatingSettingsSchema)
    def get(self) -> dict[str, Any]:
        """The weights and settings the next computation uses."""
        return presentation.settings_dict(current_settings(db.session))

    @require(Permission.RATINGS_ADMIN)
    @blp.arguments(RatingSettingsSchema())
    @blp.response(200, RatingSettingsSchema)
    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        """Replace the weights and settings; periods already stored keep theirs until
        recomputed. ``422`` names the field in error (weights not adding up to 100,
        thresholds not going down from A to D)."""
        current = set_settings(db.session, **body, user=current_user())
        db.session.commit()
        return presentation.settings_dict(current)
