"""Marshmallow schemas of the calls API (staff audience: agents and managers)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from grc.fields import id_field
from grc.people.schemas import TenantMatchSchema
from grc.telephony.models import CallStatus


class CallListArgsSchema(Schema):
    in_progress = fields.Boolean(
        required=True,
        validate=validate.Equal(True, error="Only the calls in progress are listed: true."),
        metadata={"description": "true: the calls waiting in the queue or being handled"},
    )


class StaffSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class CallSchema(Schema):
    id = fields.Integer()
    caller_number = fields.String(
        allow_none=True, metadata={"description": "E.164; null when withheld"}
    )
    called_number = fields.String()
    received_at = fields.AwareDateTime()
    status = fields.Enum(CallStatus, by_value=True)
    taken_at = fields.AwareDateTime(allow_none=True)
    taken_by = fields.Nested(StaffSchema, allow_none=True)
    ended_at = fields.AwareDateTime(allow_none=True)
    queue_result = fields.String(allow_none=True)
    wait_seconds = fields.Integer(allow_none=True)
    duration_seconds = fields.Integer(allow_none=True)
    handling_seconds = fields.Integer(allow_none=True)
    claim_ids = fields.Function(
        lambda call: [link.claim_id for link in call.claims],
        metadata={"description": "claims registered during the call, first linked first"},
    )


class CallInProgressSchema(Schema):
    call = fields.Nested(CallSchema)
    callers = fields.List(
        fields.Nested(TenantMatchSchema),
        metadata={"description": "tenants whose phone is the caller's number"},
    )
    elapsed_seconds = fields.Integer(metadata={"description": "since the call came in"})


class CallClaimSchema(Schema):
    claim_id = id_field(required=True)
