from __future__ import annotations

from marshmallow import Schema, fields

from grc.fields import id_field
from grc.messaging.models import DeliveryStatus, MessageChannel, Purpose


class MessageSchema(Schema):
    id = fields.Integer()
    claim_id = fields.Integer(allow_none=True)
    channel = fields.Enum(MessageChannel, by_value=True)
    purpose = fields.Enum(Purpose, by_value=True)
    recipient = fields.String()
    subject = fields.String(allow_none=True)
    body_text = fields.String()
    status = fields.Enum(DeliveryStatus, by_value=True)
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    provider = fields.String(allow_none=True)
    provider_id = fields.String(allow_none=True)
    provider_status = fields.String(allow_none=True)
    available_at = fields.AwareDateTime()
    created_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)
    delivered_at = fields.AwareDateTime(allow_none=True)
    failed_at = fields.AwareDateTime(allow_none=True)


class MessageListArgsSchema(Schema):
    status = fields.List(fields.Enum(DeliveryStatus, by_value=True))
    claim_id = id_field()


class DevOutboxEntrySchema(Schema):
    provider_id = fields.String()
    kind = fields.String()
    to = fields.String()
    subject = fields.String(allow_none=True)
    # SMS records keep "body", e-mail records "text" (and "html").
    body = fields.Function(lambda entry: entry.get("body") or entry.get("text"))
    html = fields.String(allow_none=True)
    # E-mails only: where a reply goes (a work order's signed address, so that a reply can be
    # tried locally with `grc receive-email --to`).
    reply_to = fields.Function(lambda entry: entry.get("reply_to"))
    message_key = fields.String()
    sent_at = fields.String()
