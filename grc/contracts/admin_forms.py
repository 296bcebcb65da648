"""The administration's forms for contractors and contracts (Flask-WTF): they parse, the
operations in ``grc.contracts.operations`` decide."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    IntegerField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from grc.contracts.models import CONTRACT_PRIORITIES

# What an operation's refusal says, per field, on the form (the operation speaks English to
# API clients; a screen says it in its own words).
FIELD_ERRORS = {
    "code": _l("Another contractor already has this code."),
    "name": _l("Give a name of 1 to 120 characters."),
    "email": _l("Give the e-mail address work orders are sent to."),
    "phone": _l("At most 20 characters."),
    "reference": _l("Another contract already has this reference."),
    "kind": _l("Choose the kind of contract."),
    "contractor_id": _l("Choose a contractor who is not retired."),
    "ends_on": _l("The end comes on or after the start."),
    "residence_ids": _l("Choose at least one residence."),
    "category_ids": _l("Choose at least one category."),
    "acknowledge_hours": _l("At least one hour."),
    "complete_hours": _l("No shorter than the time to acknowledge."),
}


def field_error(name: str) -> str:
    """The screen's words for a field an operation refused (``normal_complete_hours`` says
    what every ``…_complete_hours`` says)."""
    priority, _, rest = name.partition("_")
    key = rest if priority in CONTRACT_PRIORITIES else name
    return str(FIELD_ERRORS.get(key, ""))


class ContractorForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=30)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(
        _l("E-mail address for work orders"), validators=[DataRequired(), Length(max=254)]
    )
    phone = TelField(_l("Phone"), validators=[Optional(), Length(max=20)])


class RetireForm(FlaskForm):
    """Only the CSRF token: the action is the button."""


def _hours(label: str) -> IntegerField:
    return IntegerField(label, validators=[InputRequired(), NumberRange(min=1, max=10_000)])


class ContractForm(FlaskForm):
    contractor_id = SelectField(_l("Contractor"), coerce=int, validators=[DataRequired()])
    reference = StringField(_l("Reference"), validators=[DataRequired(), Length(max=40)])
    kind = SelectField(_l("Kind of contract"), validators=[DataRequired()])
    starts_on = DateField(_l("Valid from"), validators=[DataRequired()])
    ends_on = DateField(_l("Valid until"), validators=[Optional()])
    residence_ids = SelectMultipleField(_l("Residences covered"), coerce=int)
    category_ids = SelectMultipleField(_l("Categories covered"), coerce=int)
    urgent_acknowledge_hours = _hours(_l("Urgent: hours to acknowledge"))
    urgent_complete_hours = _hours(_l("Urgent: hours to complete"))
    high_acknowledge_hours = _hours(_l("High: hours to acknowledge"))
    high_complete_hours = _hours(_l("High: hours to complete"))
    normal_acknowledge_hours = _hours(_l("Normal: hours to acknowledge"))
    normal_complete_hours = _hours(_l("Normal: hours to complete"))
    low_acknowledge_hours = _hours(_l("Low: hours to acknowledge"))
    low_complete_hours = _hours(_l("Low: hours to complete"))

    def deadlines(self) -> dict[str, tuple[int, int]]:
        return {
            priority: (
                self[f"{priority}_acknowledge_hours"].data,
                self[f"{priority}_complete_hours"].data,
            )
            for priority in CONTRACT_PRIORITIES
        }


class ContractFilterForm(FlaskForm):
    """The list's filters, in the address (GET: no CSRF token)."""

    class Meta:
        csrf = False

    q = SearchField(_l("Reference"), validators=[Optional(), Length(max=40)])
    contractor = SelectField(_l("Contractor"), coerce=str, validators=[Optional()])
    residence = SelectField(_l("Residence"), coerce=str, validators=[Optional()])
    state = SelectField(
        _l("Validity"),
        choices=[
            SelectChoice("", _l("Any validity")),
            SelectChoice("running", _l("In force today")),
            SelectChoice("upcoming", _l("Starting later")),
            SelectChoice("ended", _l("Ended")),
        ],
        validators=[Optional()],
    )
