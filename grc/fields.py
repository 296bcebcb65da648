"""Marshmallow fields shared by every API schema."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate

# Primary keys are 32-bit on PostgreSQL: a larger number can only be a mistake.
MAX_ID = 2**31 - 1


def id_field(**kwargs: Any) -> fields.Integer:
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class Text(fields.String):
    """A string without NUL or other control characters than tab and line breaks."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if any(ord(c) < 32 and c not in "\t\n\r" for c in text):
            raise ValidationError("Control characters are not allowed.")
        return text
