"""Marshmallow schemas of the housing API (staff audience)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from grc.fields import Text
from grc.housing.operations import takes_texts
from grc.people.search import normalise_phone


class MobileNumber(Text):
    """A phone number that can receive a text message, in any French or international
    format; stored in E.164 (``+33612345678``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        number = normalise_phone(raw)
        if number is None:
            raise ValidationError("Not a phone number (for example 06 12 34 56 78).")
        if not takes_texts(number):
            raise ValidationError("Must be a mobile number: the on-call alert is a text message.")
        return number


class AgencySchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    territory = fields.Function(lambda agency: agency.territory.code)
    on_call_name = fields.String(allow_none=True)
    on_call_phone = fields.String(
        allow_none=True, metadata={"description": "E.164; texted for emergencies out of hours"}
    )


class AgencyChangeSchema(Schema):
    on_call_name = Text(validate=validate.Length(min=1, max=120), allow_none=True)
    on_call_phone = MobileNumber(
        allow_none=True,
        metadata={"description": "Any format (06 12 34 56 78, +33…); null: no on-call alert"},
    )
