from __future__ import annotations

from marshmallow import Schema, fields


class PollSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    quarter = fields.String(metadata={"description": "The launch's quarter, like 2026-Q4."})
    status = fields.String(metadata={"description": "open or closed"})
    sample_size = fields.Integer(metadata={"description": "Tenants asked for at launch."})
    drawn = fields.Integer(metadata={"description": "Tenants drawn."})
    answered = fields.Integer(metadata={"description": "Tenants who answered every question."})
    launched_at = fields.DateTime()
    closes_at = fields.DateTime()
    themes = fields.List(fields.String(), metadata={"description": "Each question's theme."})


class GroupResultSchema(Schema):
    level = fields.String(metadata={"description": "landlord, agency, residence or building"})
    id = fields.Integer(allow_none=True)
    name = fields.String()
    answers = fields.Integer()
    population = fields.Integer(
        metadata={"description": "Tenants of the group at launch (N of the correction)."}
    )
    enough_answers = fields.Boolean(metadata={"description": "At least 5 answers."})
    satisfaction_rate = fields.Float(
        allow_none=True, metadata={"description": "Share of answers 1 and 2 (0 to 1)."}
    )
    margin_of_error = fields.Float(
        allow_none=True,
        metadata={"description": "95 % half-width with finite population correction (0 to 1)."},
    )
    previous_rate = fields.Float(allow_none=True)
    change_points = fields.Float(
        allow_none=True, metadata={"description": "Since the previous poll of the theme."}
    )


class QuestionResultSchema(Schema):
    position = fields.Integer()
    theme = fields.String()
    text_fr = fields.String()
    text_en = fields.String()
    previous_poll_id = fields.Integer(allow_none=True)
    groups = fields.List(fields.Nested(GroupResultSchema))


class PollResultsSchema(Schema):
    poll = fields.Nested(PollSchema)
    questions = fields.List(fields.Nested(QuestionResultSchema))
