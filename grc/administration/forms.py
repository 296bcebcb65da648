"""The administration forms: they parse and check the shape of what is typed; the rules
(uniqueness, a unit user's unit, the order of deadlines) are the operations'."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from grc.claims.models import Clock, Priority
from grc.people.models import Role
from grc.web.words import PRIORITY, ROLE

CODE = Regexp(r"^[A-Za-z0-9_-]+$", message=_l("Letters, digits, - and _ only."))
# The shape of an address only: whether it receives mail is learnt by sending to it.
EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Not an e-mail address."))
CLOCK = {Clock.BUSINESS: _l("Business hours"), Clock.CALENDAR: _l("Around the clock (24/7)")}


def choice(value: object, label: Any, group: str | None = None) -> SelectChoice:
    """One option of a select (ids are sent as text; ``coerce`` reads them back)."""
    return SelectChoice("" if value is None else str(value), label, optgroup=group)


def _optional_id(value: Any) -> int | None:
    """A select's value: an id, or none for the empty choice."""
    if value in (None, "", "None"):
        return None
    return int(value)


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), EMAIL, Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(role.value, ROLE[role]) for role in Role],
        validators=[DataRequired()],
    )
    unit_id = SelectField(_l("Treatment unit"), coerce=_optional_id, validate_choice=False)


class UnitForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40), CODE])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    kind = StringField(_l("Kind"), validators=[DataRequired(), Length(max=30), CODE])
    agency_id = SelectField(_l("Agency"), coerce=_optional_id, validate_choice=False)
    email = EmailField(_l("E-mail address"), validators=[Optional(), EMAIL, Length(max=254)])


class AgencyForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20), CODE])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    territory_id = SelectField(_l("Territory"), coerce=_optional_id, validate_choice=False)
    on_call_name = StringField(_l("Who is on call"), validators=[Optional(), Length(max=120)])
    on_call_phone = StringField(
        _l("On-call mobile number"), validators=[Optional(), Length(max=30)]
    )


class CategoryForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=30), CODE])
    parent = SelectField(_l("Domain"), validate_choice=False)
    label_fr = StringField(_l("Label in French"), validators=[DataRequired(), Length(max=160)])
    label_en = StringField(_l("Label in English"), validators=[DataRequired(), Length(max=160)])
    default_priority = SelectField(
        _l("Default priority"),
        choices=[SelectChoice(priority.value, PRIORITY[priority]) for priority in Priority],
        default=Priority.NORMAL.value,
    )
    sla_policy = SelectField(_l("SLA policy"), validate_choice=False)
    technical = BooleanField(_l("Technical (work on the building or the dwelling)"))
    active = BooleanField(_l("Offered for new claims"), default=True)


class SlaPolicyForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20), CODE])
    label_fr = StringField(_l("Label in French"), validators=[DataRequired(), Length(max=120)])
    label_en = StringField(_l("Label in English"), validators=[DataRequired(), Length(max=120)])
    response_hours = IntegerField(
        _l("Response within (hours)"), validators=[DataRequired(), NumberRange(min=1, max=8760)]
    )
    resolution_hours = IntegerField(
        _l("Resolution within (hours)"), validators=[DataRequired(), NumberRange(min=1, max=8760)]
    )
    clock = SelectField(
        _l("Clock"), choices=[SelectChoice(clock.value, label) for clock, label in CLOCK.items()]
    )


class RoutingRuleForm(FlaskForm):
    category = SelectField(_l("Category"), validate_choice=False, validators=[DataRequired()])
    unit_id = SelectField(_l("Treatment unit"), coerce=_optional_id, validate_choice=False)
    # "territory:3", "agency:5", "residence:12", or empty for everywhere.
    scope = SelectField(_l("Where"), validate_choice=False)


class UserEditForm(UserForm):
    # The address is the user's sign-in name: it is shown, not changed here.
    # WTForms removes a field set to None in a subclass.
    email = None


def _percent(label: Any) -> IntegerField:
    return IntegerField(
        label,
        validators=[NumberRange(0, 100, message=_l("From 0 to 100."))],
    )


class RatingSettingsForm(FlaskForm):
    """The weights of the supplier rating (whole percent adding up to 100), the answers a
    grade needs and the lowest score of each grade; the rules are the operation's."""

    satisfaction = _percent(_l("Tenants' satisfaction"))
    acknowledged_on_time = _percent(_l("Acknowledged on time"))
    completed_on_time = _percent(_l("Completed on time"))
    not_reopened = _percent(_l("Not reopened"))
    min_answers = IntegerField(
        _l("Survey answers needed for a grade"),
        validators=[NumberRange(1, 10_000, message=_l("From 1 to 10,000."))],
    )
    threshold_a = _percent(_l("Grade A from"))
    threshold_b = _percent(_l("Grade B from"))
    threshold_c = _percent(_l("Grade C from"))
    threshold_d = _percent(_l("Grade D from"))
