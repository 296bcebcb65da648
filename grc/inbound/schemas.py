from __future__ import annotations

from marshmallow import Schema, fields, validate

from contractors.reading import ReplyKind
from grc.claims.models import MAX_DESCRIPTION, IntakeChannel
from grc.claims.schemas import ClaimCreateSchema
from grc.fields import Text, id_field
from grc.inbound.models import InboundStatus, MatchedBy
from grc.inbound.operations import ReplyDecision


class InboundAttachmentSchema(Schema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    refused = fields.String(allow_none=True)


class InboundEmailSchema(Schema):
    id = fields.Integer()
    received_at = fields.AwareDateTime()
    processed_at = fields.AwareDateTime(allow_none=True)
    original_deleted_at = fields.AwareDateTime(
        allow_none=True,
        metadata={
            "description": "When the e-mail as received was deleted under the retention rule "
            "(GRC_INBOUND_ORIGINAL_DAYS); what was kept from it stays."
        },
    )
    status = fields.Enum(InboundStatus, by_value=True)
    message_id = fields.String(allow_none=True)
    from_address = fields.String(allow_none=True)
    subject = fields.String(allow_none=True)
    matched_by = fields.Enum(MatchedBy, by_value=True, allow_none=True)
    claim_id = fields.Integer(allow_none=True)
    work_order_id = fields.Integer(allow_none=True)
    tenant_id = fields.Integer(allow_none=True)
    reply_kind = fields.Enum(ReplyKind, by_value=True, allow_none=True)
    reading = fields.Dict(allow_none=True)
    new_text = fields.String(allow_none=True)
    html = fields.String(allow_none=True, metadata={"description": "Sanitised: safe to display."})
    error = fields.String(allow_none=True)
    attempts = fields.Integer()
    attachments = fields.List(fields.Nested(InboundAttachmentSchema))


class InboundListArgsSchema(Schema):
    status = fields.List(fields.Enum(InboundStatus, by_value=True))
    claim_id = id_field()


class AttachSchema(Schema):
    claim_id = id_field(required=True)


class RegisterIntakeSchema(ClaimCreateSchema):
    """A claim registered from a tenant's e-mail: the e-mail's text and sender by default."""

    channel = fields.Enum(IntakeChannel, by_value=True, load_default=IntakeChannel.EMAIL)
    description = Text(
        load_default=None,
        validate=validate.Length(min=3, max=MAX_DESCRIPTION),
        metadata={"description": "Defaults to the e-mail's new text."},
    )


class ReplyDecisionSchema(Schema):
    """A person's decision on a contractor's reply that was not applied."""

    decision = fields.Enum(
        ReplyDecision,
        by_value=True,
        required=True,
        metadata={
            "description": "confirm (apply what was read), apply (another reading: kind and, "
            "for a visit, appointment_at), file (no change)"
        },
    )
    kind = fields.String(validate=validate.OneOf(["acknowledged", "scheduled", "done"]))
    appointment_at = fields.AwareDateTime()
    appointment_end = fields.AwareDateTime()
