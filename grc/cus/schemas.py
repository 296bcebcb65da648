from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, validate

from grc.clock import local_today
from grc.cus.indicators import FIRST_YEAR
from grc.extensions import db
from grc.housing.models import Agency


class YearField(fields.Integer):
    """A year of the landlord's calendar, from 2000 to the current one."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        year = super()._deserialize(value, attr, data, **kwargs)
        last = local_today().year
        if not FIRST_YEAR <= year <= last:
            raise ValidationError(f"A year from {FIRST_YEAR} to {last}.")
        return year


class AgencyCodeField(fields.String):
    """An agency's code (METZ); unknown codes are refused."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        code = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        found = db.session.execute(sa.select(Agency.id).where(Agency.code == code)).first()
        if found is None:
            raise ValidationError("No agency has this code.")
        return code


class CusArgsSchema(Schema):
    year = YearField(required=True, metadata={"description": "The year, like 2026."})
    agency = AgencyCodeField(
        validate=validate.Length(min=1, max=20),
        metadata={"description": "One agency's code; the landlord's total is always given."},
    )


class AgencyBriefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class LiftBreakdownsSchema(Schema):
    long_per_lift = fields.Float(
        allow_none=True,
        metadata={
            "description": "The indicator: breakdowns over 4 hours per lift (null: no lift)."
        },
    )
    long_breakdowns = fields.Integer(metadata={"description": "Breakdowns over 4 hours."})
    breakdowns = fields.Integer(metadata={"description": "Breakdowns started in the year."})
    lifts = fields.Integer()
    calls = fields.Integer(
        metadata={"description": "Claims and attached calls about those breakdowns."}
    )


class CleanlinessSchema(Schema):
    rate = fields.Float(metadata={"description": "Share of satisfied tenants, 0 to 1."})
    margin = fields.Float(metadata={"description": "Margin of error at 95 %, 0 to 1."})
    answers = fields.Integer()
    poll_title = fields.String()
    poll_date = fields.Date()


class ResponseSchema(Schema):
    on_time_rate = fields.Float(
        allow_none=True,
        metadata={"description": "Answered on time among the claims whose answer is due."},
    )
    claims = fields.Integer(metadata={"description": "Claims registered, cancelled ones aside."})
    on_time = fields.Integer()
    late = fields.Integer(metadata={"description": "Answered late, or unanswered past due."})
    pending = fields.Integer(metadata={"description": "Unanswered, not yet due."})


class FiguresSchema(Schema):
    lift_breakdowns = fields.Nested(LiftBreakdownsSchema)
    cleanliness = fields.Nested(
        CleanlinessSchema,
        allow_none=True,
        metadata={"description": "null when no quality-of-service poll measured the year."},
    )
    response = fields.Nested(ResponseSchema)


class AgencyFiguresSchema(FiguresSchema):
    agency = fields.Nested(AgencyBriefSchema)


class CusReportSchema(Schema):
    year = fields.Integer()
    start = fields.AwareDateTime(metadata={"description": "1 January 00:00, local time."})
    end = fields.AwareDateTime(metadata={"description": "The next 1 January 00:00."})
    computed_at = fields.AwareDateTime()
    complete = fields.Boolean(metadata={"description": "false while the year is not over."})
    agencies = fields.List(fields.Nested(AgencyFiguresSchema))
    landlord = fields.Nested(FiguresSchema)
