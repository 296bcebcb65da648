"""Received e-mail for staff: the triage queue of e-mails nothing matched, what a person
must read, and the tenants' e-mails to register as claims."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from grc.arguments import Blueprint
from grc.auth import Permission, current_user, require
from grc.claims.models import Claim
from grc.claims.operations import NewClaim
from grc.claims.queries import get_claim_for
from grc.claims.schemas import ClaimDetailSchema
from grc.db import utcnow
from grc.errors import Conflict
from grc.extensions import db
from grc.inbound.models import InboundEmail, InboundStatus
from grc.inbound.operations import (
    attach_to_claim,
    decide_contractor_reply,
    inbound_for,
    register_intake,
    send_back,
    visible_inbound,
)
from grc.inbound.schemas import (
    AttachSchema,
    InboundEmailSchema,
    InboundListArgsSchema,
    RegisterIntakeSchema,
    ReplyDecisionSchema,
)
from grc.pagination import page_of

blp = Blueprint(
    "inbound_emails",
    __name__,
    url_prefix="/api/v1",
    description="E-mails that came in: contractors' replies, tenants' e-mails, triage",
)

# What a person may send through processing again: whatever did not end in a change.
_REPROCESSABLE = (
    InboundStatus.UNREADABLE,
    InboundStatus.TRIAGE,
    InboundStatus.REVIEW,
    InboundStatus.INTAKE,
)


def _visible_inbound() -> sa.Select[InboundEmail]:
    return visible_inbound(current_user())


def _inbound_or_404(email_id: int) -> InboundEmail:
    return inbound_for(db.session, current_user(), email_id)


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
        claim = get_claim_for(db.session, current_user(), body["claim_id"])
        attach_to_claim(db.session, inbound, claim)
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


@blp.route("/inbound-emails/<int(max=2147483647):email_id>/decision")
class InboundDecision(MethodView):
    @require(Permission.INBOUND_TRIAGE)
    @blp.arguments(ReplyDecisionSchema())
    @blp.response(200, InboundEmailSchema)
    def post(self, body: dict[str, Any], email_id: int) -> InboundEmail:
        """A contractor's reply a person read (``review``, ``held``): ``confirm`` applies what
        was read, ``apply`` another reading, ``file`` changes nothing. The work order's
        attention flag is cleared and the decision written on the timeline; ``409`` when the
        e-mail is not waiting for one, or what was read moves nothing."""
        inbound = _inbound_or_404(email_id)
        decide_contractor_reply(
            db.session,
            inbound,
            body["decision"],
            current_user(),
            utcnow(),
            kind=body.get("kind"),
            appointment_at=body.get("appointment_at"),
            appointment_end=body.get("appointment_end"),
        )
        db.session.commit()
        return inbound
