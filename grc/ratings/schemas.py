from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate

from contractors.rating import Period, parse_period

SORTS = ("score", "name", "grade")
FORMATS = ("json", "csv")


class PeriodField(fields.Field):
    """``2026-Q3`` or ``2026-07``, in the landlord's calendar."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Period:
        try:
            return parse_period(value, tz=current_app.extensions["grc_settings"].tz)
        except ValueError as exc:
            raise ValidationError(
                "A period is written like 2026-Q3 (a quarter) or 2026-07 (a month)."
            ) from exc


_PERIOD_DESCRIPTION = "A quarter (2026-Q3) or a month (2026-07) of the landlord's calendar."


class ContractorRatingsArgsSchema(Schema):
    period = PeriodField(required=True, metadata={"description": _PERIOD_DESCRIPTION})
    format = fields.String(
        validate=validate.OneOf(FORMATS),
        metadata={"description": "csv for a CSV file (as does Accept: text/csv)."},
    )


class RatingListArgsSchema(ContractorRatingsArgsSchema):
    sort = fields.String(
        load_default="score",
        validate=validate.OneOf(SORTS),
        metadata={"description": "score (best first), name, or grade (A first)."},
    )


class ContractorBriefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class WeightsSchema(Schema):
    satisfaction = fields.Integer(required=True, validate=validate.Range(0, 100))
    acknowledged_on_time = fields.Integer(required=True, validate=validate.Range(0, 100))
    completed_on_time = fields.Integer(required=True, validate=validate.Range(0, 100))
    not_reopened = fields.Integer(required=True, validate=validate.Range(0, 100))


class ThresholdsSchema(Schema):
    a = fields.Float(required=True, validate=validate.Range(0, 100))
    b = fields.Float(required=True, validate=validate.Range(0, 100))
    c = fields.Float(required=True, validate=validate.Range(0, 100))
    d = fields.Float(required=True, validate=validate.Range(0, 100))


class RatingSettingsSchema(Schema):
    weights = fields.Nested(
        WeightsSchema,
        required=True,
        metadata={"description": "Whole percent of each component, adding up to 100."},
    )
    min_answers = fields.Integer(
        required=True,
        validate=validate.Range(1, 10_000),
        metadata={"description": "Survey answers a contractor needs for a grade."},
    )
    thresholds = fields.Nested(
        ThresholdsSchema,
        required=True,
        metadata={"description": "The lowest score of grades A to D, going down."},
    )


class RatingSchema(Schema):
    contractor = fields.Nested(ContractorBriefSchema)
    period = fields.String()
    group = fields.String(metadata={"description": "overall, category or agency"})
    code = fields.String(
        allow_none=True, metadata={"description": "The category or agency code; null overall."}
    )
    orders = fields.Integer()
    answers = fields.Integer()
    mean_satisfaction = fields.Float(allow_none=True)
    acknowledged_on_time = fields.Float(allow_none=True)
    completed_on_time = fields.Float(allow_none=True)
    reopen_rate = fields.Float(allow_none=True)
    score = fields.Float(allow_none=True)
    grade = fields.String(allow_none=True)
    enough_answers = fields.Boolean()
    weights = fields.Nested(WeightsSchema)
    min_answers = fields.Integer()
    thresholds = fields.Nested(ThresholdsSchema)
    computed_at = fields.AwareDateTime()
