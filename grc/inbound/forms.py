"""The forms of the mail to handle (Flask-WTF): they parse; ``grc.inbound.operations`` and
the claims' operations decide."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from grc.claims.models import MAX_DESCRIPTION

# Another reading a person may apply to a contractor's reply (what moves an order).
READINGS = [
    SelectChoice("acknowledged", _l("Taken on")),
    SelectChoice("scheduled", _l("Visit planned")),
    SelectChoice("done", _l("Work done")),
]


class AttachForm(FlaskForm):
    reference = StringField(_l("Claim reference"), validators=[DataRequired(), Length(max=40)])


class RegisterForm(FlaskForm):
    category = SelectField(_l("Category"), validators=[DataRequired()])
    dwelling_id = SelectField(_l("Dwelling"), coerce=int, validators=[Optional()])
    dwelling_code = StringField(_l("Dwelling code"), validators=[Optional(), Length(max=30)])
    description = TextAreaField(
        _l("Description"), validators=[DataRequired(), Length(min=3, max=MAX_DESCRIPTION)]
    )


class CorrectForm(FlaskForm):
    kind = SelectField(_l("What the contractor says"), choices=READINGS)
    appointment_at = DateTimeLocalField(
        _l("Visit on"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )


class DecideForm(FlaskForm):
    """Confirm what was read, or file without change: only the CSRF token."""
