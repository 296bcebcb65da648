"""Work orders and inbound e-mail for staff: what contractors were sent and answered, the
triage queue of e-mails nothing matched, and what a person must read."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from grc.arguments import Blueprint
from grc.auth import Permission, current_user, require
from grc.claims.models import Claim
from grc.claims.operations import NewClaim
from grc.claims.queries import get_claim_for, restrict_to_visible_claims
from grc.claims.schemas import ClaimDetailSchema
from grc.contracts.inbound import register_intake, send_back
from grc.contracts.models import WorkOrder
from grc.contracts.schemas import (
    AttachSchema,
    AttentionSchema,
    InboundEmailSchema,
    InboundListArgsSchema,
    RegisterIntakeSchema,
    WorkOrderListArgsSchema,
    WorkOrderSchema,
)
from grc.contracts.work_orders import clear_attention
from grc.db import utcnow
from grc.errors import Conflict, NotFound
from grc.extensions import db
from grc.inbound.models import InboundEmail, InboundStatus
from grc.pagination import page_of

blp = Blueprint(
    "contractors",
    __name__,
    url_prefix="/api/v1",
    description="Work orders e-mailed to contractors, and the e-mails that came back",
)

# What a person may send through processing again: whatever did not end in a change.
_REPROCESSABLE = (
    InboundStatus.UNREADABLE,
    InboundStatus.TRIAGE,
    InboundStatus.REVIEW,
    InboundStatus.INTAKE,
)


def _visible_inbound() -> sa.Select[tuple[InboundEmail]]:
    """The e-mails of the claims the user may see; triage (no claim) only for roles that
    see every claim."""
    return restrict_to_visible_claims(
        sa.select(InboundEmail), InboundEmail.claim_id, current_user()
    )


def _inbound_or_404(email_id: int) -> InboundEmail:
    inbound = db.session.execute(
        _visible_inbound().where(InboundEmail.id == email_id)
    ).scalar_one_or_none()
    if inbound is None:
        raise NotFound(f"No inbound e-mail with id {email_id}.")
    return inbound


@blp.route("/inbound-emails")
class InboundList(MethodView):
    @require(Permission.INBOUND_READ)
    @blp.arguments(InboundListArgsSchema(), location="query")
    @blp.response(200, InboundEmailSchema(many=True))
    @blp.paginate()
    def get(
        self, args: dict[str, Any], pagination_parameters: PaginationParameters
    ) -> list[InboundEmail]:
        """Newest first; ``status=triage`` is the queue of e-mails nothing matched,
        ``review`` and ``held`` what a person must read, ``unreadable`` what failed."""
        stmt = _visible_inbound()
        if args.get("status"):
            stmt = stmt.where(InboundEmail.status.in_(args["status"]))
        if args.get("claim_id"):
            stmt = stmt.where(InboundEmail.claim_id == args["claim_id"])
        return page_of(db.session, stmt, pagination_parameters, InboundEmail.id.desc())


@blp.route("/inbound-emails/<int(max=2147483647):email_id>")
class InboundItem(MethodView):
    @require(Permission.INBOUND_READ)
    @blp.response(200, InboundEmailSchema)
    def get(self, email_id: int) -> InboundEmail:
        return _inbound_or_404(email_id)


@blp.route("/inbound-emails/<int(max=2147483647):email_id>/attach")
class InboundAttach(MethodView):
    @require(Permission.INBOUND_TRIAGE)
    @blp.arguments(AttachSchema())
    @blp.response(200, InboundEmailSchema)
    def post(self, body: dict[str, Any], email_id: int) -> InboundEmail:
        """File an e-mail from the triage queue on a claim; it is then read and applied as a
        reply to that claim's work order (only if it comes from that contractor)."""
        inbound = _inbound_or_404(email_id)
        if inbound.status not in (InboundStatus.TRIAGE, InboundStatus.INTAKE):
            raise Conflict(f"The e-mail is {inbound.status}: only triage e-mails are attached.")
        claim = get_claim_for(db.session, current_user(), body["claim_id"])
        send_back(db.session, inbound, claim.id)
        db.session.commit()
        return inbound


@blp.route("/inbound-emails/<int(max=2147483647):email_id>/reprocess")
class InboundReprocess(MethodView):
    @require(Permission.INBOUND_TRIAGE)
    @blp.response(200, InboundEmailSchema)
    def post(self, email_id: int) -> InboundEmail:
        """Process an e-mail again from its stored original (after a fix, or a late token)."""
        inbound = _inbound_or_404(email_id)
        if inbound.status not in _REPROCESSABLE:
            raise Conflict(f"The e-mail is {inbound.status}: it is not processed again.")
        send_back(db.session, inbound, inbound.claim_id)
        db.session.commit()
        return inbound


@blp.route("/inbound-emails/<int(max=2147483647):email_id>/register")
class InboundRegister(MethodView):
    @require(Permission.CLAIMS_CREATE)
    @blp.arguments(RegisterIntakeSchema())
    @blp.response(201, ClaimDetailSchema)
    def post(self, body: dict[str, Any], email_id: int) -> Claim:
        """Register the claim a tenant's e-mail (``intake``) asks for: channel e-mail, the
        e-mail's text and tenant unless given; the tenant is acknowledged as usual."""
        inbound = _inbound_or_404(email_id)
        claim = register_intake(db.session, inbound, NewClaim(**body), current_user(), utcnow())
        db.session.commit()
        return claim


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
