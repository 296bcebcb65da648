from __future__ import annotations

from marshmallow import Schema, fields, validate

from grc.claims.models import MAX_DESCRIPTION
from grc.contracts.models import WorkOrderStatus
from grc.fields import Text, id_field


class WorkOrderSchema(Schema):
    id = fields.Integer()
    claim_id = fields.Integer()
    contract_id = fields.Integer()
    contractor_id = fields.Integer()
    status = fields.Enum(WorkOrderStatus, by_value=True)
    acknowledge_due = fields.AwareDateTime()
    complete_due = fields.AwareDateTime()
    acknowledged_at = fields.AwareDateTime(allow_none=True)
    completed_at = fields.AwareDateTime(allow_none=True)
    appointment_at = fields.AwareDateTime(allow_none=True)
    appointment_end = fields.AwareDateTime(allow_none=True)
    needs_attention = fields.Boolean()
    beyond_claim_deadline = fields.Boolean(
        metadata={
            "description": "The contract gives the contractor longer than the claim's own "
            "resolution deadline (the conflict is also on the claim's timeline)."
        }
    )
    cancelled_at = fields.AwareDateTime(allow_none=True)
    last_reply_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()


class AttentionSchema(Schema):
    comment = Text(
        required=True,
        validate=validate.Length(min=1, max=MAX_DESCRIPTION),
        metadata={"description": "What was done about it; written on the claim's timeline."},
    )


class WorkOrderListArgsSchema(Schema):
    claim_id = id_field()
    needs_attention = fields.Boolean()
