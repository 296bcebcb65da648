"""Claims and catalogue endpoints: parse, authorise, call one operation, commit, serialise."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.pagination import PaginationParameters
from sqlalchemy.orm import joinedload

from grc.auth import Permission, current_user, require
from grc.claims import operations, queries
from grc.claims.models import Category, Claim
from grc.claims.schemas import (
    AppointmentSchema,
    CategorySchema,
    ClaimCreateSchema,
    ClaimDetailSchema,
    ClaimListArgsSchema,
    ClaimSchema,
    CommentSchema,
    EventSchema,
    TransitionSchema,
)
from grc.db import utcnow
from grc.extensions import db

catalogue_blp = Blueprint(
    "catalogue", __name__, url_prefix="/api/v1/categories", description="The claim catalogue"
)
blp = Blueprint("claims", __name__, url_prefix="/api/v1/claims", description="Claims")


@catalogue_blp.route("")
class CategoryList(MethodView):
    @require(Permission.CATALOGUE_READ)
    @catalogue_blp.response(200, CategorySchema(many=True))
    def get(self) -> list[Category]:
        """The active catalogue: domains first, each followed by its categories."""
        categories = (
            db.session.execute(
                sa.select(Category)
                .where(Category.active)
                .options(joinedload(Category.parent), joinedload(Category.sla_policy))
            )
            .scalars()
            .all()
        )
        return sorted(
            categories,
            key=lambda c: ((c.parent.code if c.parent else c.code), c.parent is not None, c.code),
        )


@blp.route("")
class ClaimCollection(MethodView):
    @require(Permission.CLAIMS_READ)
    @blp.arguments(ClaimListArgsSchema, location="query")
    @blp.response(200, ClaimSchema(many=True))
    @blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Claim]:
        """Claims visible to the caller, newest first, filtered; paging in X-Pagination."""
        stmt = queries.list_claims(
            db.session, current_user(), queries.ClaimFilters(**args), utcnow()
        )
        pagination_parameters.item_count = db.session.execute(
            sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
        ).scalar_one()
        page = (
            stmt.options(
                joinedload(Claim.category),
                joinedload(Claim.unit),
                joinedload(Claim.contractor),
                joinedload(Claim.contract),
            )
            .limit(pagination_parameters.page_size)
            .offset(pagination_parameters.first_item)
        )
        return list(db.session.execute(page).unique().scalars())

    @require(Permission.CLAIMS_CREATE)
    @blp.arguments(ClaimCreateSchema)
    @blp.response(201, ClaimDetailSchema)
    def post(self, payload: dict[str, Any]) -> Claim:
        """Register a claim: located, routed, with its SLA deadlines (or resolved at once)."""
        claim = operations.create_claim(db.session, operations.NewClaim(**payload), current_user())
        db.session.commit()
        return claim


@blp.route("/<int(max=2147483647):claim_id>")
class ClaimItem(MethodView):
    @require(Permission.CLAIMS_READ)
    @blp.response(200, ClaimDetailSchema)
    def get(self, claim_id: int) -> Claim:
        """One claim with its timeline."""
        return queries.get_claim_for(db.session, current_user(), claim_id, with_events=True)


@blp.route("/<int(max=2147483647):claim_id>/transitions")
class ClaimTransitions(MethodView):
    @require(Permission.CLAIMS_ACT)
    @blp.arguments(TransitionSchema)
    @blp.response(200, ClaimDetailSchema)
    @blp.alt_response(409, description="The lifecycle refuses this action from the current status")
    def post(self, payload: dict[str, Any], claim_id: int) -> Claim:
        """Move a claim along its lifecycle (assign, start, wait_tenant, resume, resolve…)."""
        user = current_user()
        claim = queries.get_claim_for(db.session, user, claim_id, for_update=True)
        operations.transition_claim(
            db.session, claim, operations.TransitionRequest(**payload), user
        )
        db.session.commit()
        return claim


@blp.route("/<int(max=2147483647):claim_id>/comments")
class ClaimComments(MethodView):
    @require(Permission.CLAIMS_COMMENT)
    @blp.arguments(CommentSchema)
    @blp.response(201, EventSchema)
    def post(self, payload: dict[str, Any], claim_id: int) -> Any:
        """Add a comment, internal or visible to the tenant."""
        user = current_user()
        claim = queries.get_claim_for(db.session, user, claim_id, for_update=True)
        event = operations.add_comment(
            db.session, claim, payload["body"], payload["visibility"], user
        )
        db.session.commit()
        return event


@blp.route("/<int(max=2147483647):claim_id>/appointment")
class ClaimAppointment(MethodView):
    @require(Permission.CLAIMS_ACT)
    @blp.arguments(AppointmentSchema)
    @blp.response(200, ClaimDetailSchema)
    def post(self, payload: dict[str, Any], claim_id: int) -> Claim:
        """Record the visit planned with the tenant; the tenant is told (SMS or e-mail)."""
        user = current_user()
        claim = queries.get_claim_for(db.session, user, claim_id, for_update=True)
        operations.schedule_appointment(
            db.session, claim, payload["at"], user, note=payload.get("note")
        )
        db.session.commit()
        return claim
