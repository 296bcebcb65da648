"""Incoming calls for the call-centre console: parse, authorise, call one operation,
commit, serialise."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy.orm import Session

from grc.arguments import Blueprint
from grc.auth import Permission, current_user, require
from grc.claims.queries import get_claim_for
from grc.db import utcnow
from grc.errors import NotFound
from grc.extensions import db
from grc.people.schemas import lease_dwelling
from grc.telephony import operations
from grc.telephony.models import Call
from grc.telephony.schemas import (
    CallClaimSchema,
    CallInProgressSchema,
    CallListArgsSchema,
    CallSchema,
)

blp = Blueprint("calls", __name__, url_prefix="/api/v1/calls", description="Incoming calls")


def _call(session: Session, call_id: int) -> Call:
    call = session.get(Call, call_id)
    if call is None:
        raise NotFound(f"No call with id {call_id}.")
    return call


@blp.route("")
class CallList(MethodView):
    @require(Permission.CALLS_READ)
    @blp.arguments(CallListArgsSchema(), location="query")
    @blp.response(200, CallInProgressSchema(many=True))
    def get(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        """Calls waiting in the queue or being handled, oldest first, each with the tenants
        whose phone is the caller's number and their current dwelling."""
        found = operations.calls_in_progress(db.session, utcnow())
        return [
            {
                "call": live.call,
                "callers": [
                    {
                        "matched_by": m.matched_by,
                        "tenant": m.tenant,
                        "dwelling": lease_dwelling(m.lease),
                    }
                    for m in live.callers
                ],
                "elapsed_seconds": live.elapsed_seconds,
            }
            for live in found
        ]


@blp.route("/<int(max=2147483647):call_id>/take")
class CallTake(MethodView):
    @require(Permission.CALLS_HANDLE)
    @blp.response(200, CallSchema)
    def post(self, call_id: int) -> Call:
        """Pick up a waiting call; 409 naming who has it when another agent took it first,
        or when it is over."""
        call = operations.take_call(
            db.session, _call(db.session, call_id), current_user(), utcnow()
        )
        db.session.commit()
        return call


@blp.route("/<int(max=2147483647):call_id>/claims")
class CallClaims(MethodView):
    @require(Permission.CALLS_HANDLE)
    @blp.arguments(CallClaimSchema())
    @blp.response(200, CallSchema)
    def post(self, args: dict[str, Any], call_id: int) -> Call:
        """Record the claim registered during the call (once, however often it is sent);
        a call may lead to several claims."""
        user = current_user()
        call = _call(db.session, call_id)
        claim = get_claim_for(db.session, user, args["claim_id"])
        operations.link_claim(db.session, call, claim, user, utcnow())
        db.session.commit()
        return call
