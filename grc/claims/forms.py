"""The forms of the queue (its filters, read from the address) and of the claim page's
actions; they parse and name the bad field, the operations decide."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileRequired, MultipleFileField
from wtforms import (
    DateField,
    IntegerField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from grc.claims.models import MAX_DESCRIPTION, OPEN_STATUSES, ClaimStatus, Visibility
from grc.clock import settings
from grc.web.words import CLAIM_STATUS

# The queue's status choice beyond one status: the open ones (the default), or every one.
OPEN = "open"
ALL = "all"


def _choices(nothing: object, rows: list[tuple[int, str]]) -> list[SelectChoice]:
    """A select's options: ``nothing`` chosen (empty), then each row (id, name)."""
    return [SelectChoice("", nothing), *(SelectChoice(str(i), name) for i, name in rows)]


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _optional_int(value: object) -> int | None:
    return int(str(value)) if value not in (None, "", "None") else None


class QueueFilterForm(FlaskForm):
    """The queue's filters, in the address (a GET form: no CSRF token, nothing changes)."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"), validators=[Optional(), Length(min=2, max=100)], filters=[_strip])
    status = SelectField(_l("Status"), default=OPEN)
    category = StringField(
        _l("Category code"), validators=[Optional(), Length(max=30)], filters=[_strip]
    )
    agency = SelectField(_l("Agency"), coerce=_optional_int, validators=[Optional()])
    residence = StringField(
        _l("Residence code"), validators=[Optional(), Length(max=20)], filters=[_strip]
    )
    # Bounded: the offset it gives must fit the database's integer.
    page = IntegerField(
        _l("Page"), default=1, validators=[Optional(), NumberRange(min=1, max=100_000)]
    )

    def __init__(self, agencies: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.status.choices = [
            SelectChoice(OPEN, _l("Open")),
            *(SelectChoice(str(s), CLAIM_STATUS[s]) for s in ClaimStatus),
            SelectChoice(ALL, _l("All")),
        ]
        self.agency.choices = _choices(_l("All agencies"), agencies)

    def statuses(self) -> list[ClaimStatus] | None:
        if self.status.data == ALL:
            return None
        if self.status.data in set(ClaimStatus):
            return [ClaimStatus(self.status.data)]
        return list(OPEN_STATUSES)


class ActionForm(FlaskForm):
    """An action with nothing to fill in (start, resume, close, assign by routing)."""


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Comment"), validators=[DataRequired(), Length(max=MAX_DESCRIPTION)], filters=[_strip]
    )
    visibility = RadioField(
        _l("Who sees it"),
        choices=[
            SelectChoice(str(Visibility.INTERNAL), _l("Staff only")),
            SelectChoice(str(Visibility.TENANT), _l("The tenant too")),
        ],
        default=str(Visibility.INTERNAL),
        validators=[InputRequired()],
    )


class RerouteForm(FlaskForm):
    unit = SelectField(_l("Unit"), coerce=_optional_int, validators=[InputRequired()])
    comment = TextAreaField(
        _l("Why (optional)"), validators=[Optional(), Length(max=MAX_DESCRIPTION)]
    )

    def __init__(self, units: list[tuple[int, str]] | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.unit.choices = _choices(_l("Choose a unit"), units or [])


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Person"), coerce=_optional_int, validators=[InputRequired()])
    comment = TextAreaField(
        _l("Note (optional)"), validators=[Optional(), Length(max=MAX_DESCRIPTION)]
    )

    def __init__(self, people: list[tuple[int, str]] | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.assignee.choices = _choices(_l("Choose a person"), people or [])


class _References(SelectMultipleField):
    """Claim references ticked in a queue: not a fixed list of choices; each is then looked
    up among the claims the user may see."""

    def pre_validate(self, form: object) -> None:
        pass


class BulkRerouteForm(FlaskForm):
    """The queue's selection rerouted to one unit (the references come as ``claims``)."""

    claims = _References(_l("Claims"), validators=[DataRequired()])
    unit = SelectField(
        _l("Reroute the selection to"), coerce=_optional_int, validators=[InputRequired()]
    )

    def __init__(self, units: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.unit.choices = _choices(_l("Choose a unit"), units)


class AppointmentForm(FlaskForm):
    day = DateField(_l("Day"), validators=[InputRequired()])
    start = TimeField(_l("From"), validators=[InputRequired()])
    end = TimeField(_l("To (optional)"), validators=[Optional()])
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])

    def starts_at(self) -> datetime:
        return datetime.combine(self.day.data, self.start.data, tzinfo=settings().tz)

    def ends_at(self) -> datetime | None:
        if self.end.data is None:
            return None
        return datetime.combine(self.day.data, self.end.data, tzinfo=settings().tz)


def _text(label: str) -> TextAreaField:
    return TextAreaField(
        label, validators=[DataRequired(), Length(max=MAX_DESCRIPTION)], filters=[_strip]
    )


class WaitTenantForm(FlaskForm):
    comment = _text(_l("Question to the tenant"))


class ResolveForm(FlaskForm):
    comment = _text(_l("How was it resolved?"))


class CancelForm(FlaskForm):
    comment = _text(_l("Why is it cancelled?"))


class ReopenForm(FlaskForm):
    comment = TextAreaField(
        _l("Why (optional)"), validators=[Optional(), Length(max=MAX_DESCRIPTION)]
    )


class PhotosForm(FlaskForm):
    """Photos of the problem, several at once; on a tablet the camera is offered first."""

    files = MultipleFileField(
        _l("Photos to add"),
        validators=[FileRequired(_l("Choose one or more photos."))],
        render_kw={"accept": "image/*", "capture": "environment"},
    )
