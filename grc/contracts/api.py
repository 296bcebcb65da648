"""Work orders for staff: what contractors were sent and answered, and what a person must
read."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from grc.arguments import Blueprint
from grc.auth import Permission, current_user, require
from grc.claims.queries import restrict_to_visible_claims
from grc.contracts.models import WorkOrder
from grc.contracts.schemas import (
    AttentionSchema,
    WorkOrderListArgsSchema,
    WorkOrderSchema,
)
from grc.contracts.work_orders import clear_attention
from grc.db import utcnow
from grc.errors import NotFound
from grc.extensions import db
from grc.pagination import page_of

blp = Blueprint(
    "work_orders",
    __name__,
    url_prefix="/api/v1",
    description="Work orders e-mailed to contractors",
)


@blp.route("/work-orders")
class WorkOrderList(MethodView):
    @require(Permission.CLAIMS_READ)
    @blp.arguments(WorkOrderListArgsSchema(), location="query")
    @blp.response(200, WorkOrderSchema(many=True))
    @blp.paginate()
    def get(
        self, args: dict[str, Any], pagination_parameters: PaginationParameters
    ) -> list[WorkOrder]:
        """Newest first; ``needs_attention=true`` lists replies a person must read."""
        stmt = restrict_to_visible_claims(sa.select(WorkOrder), WorkOrder.claim_id, current_user())
        if args.get("claim_id"):
            stmt = stmt.where(WorkOrder.claim_id == args["claim_id"])
        if "needs_attention" in args:
            stmt = stmt.where(WorkOrder.needs_attention.is_(args["needs_attention"]))
        return page_of(db.session, stmt, pagination_parameters, WorkOrder.id.desc())


@blp.route("/work-orders/<int(max=2147483647):work_order_id>/attention")
class WorkOrderAttention(MethodView):
    @require(Permission.INBOUND_TRIAGE)
    @blp.arguments(AttentionSchema())
    @blp.response(200, WorkOrderSchema)
    def post(self, body: dict[str, Any], work_order_id: int) -> WorkOrder:
        """Clear ``needs_attention`` once the reply or deadline it was raised for is dealt
        with; the ``comment`` (required) goes on the claim's timeline. ``409`` when the order
        does not need attention."""
        order = db.session.execute(
            restrict_to_visible_claims(
                sa.select(WorkOrder), WorkOrder.claim_id, current_user()
            ).where(WorkOrder.id == work_order_id)
        ).scalar_one_or_none()
        if order is None:
            raise NotFound(f"No work order with id {work_order_id}.")
        clear_attention(db.session, order, body["comment"], current_user(), utcnow())
        db.session.commit()
        return order
