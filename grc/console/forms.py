"""The console's forms: the claim registered during a call, a call attached to an open
claim."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from grc.claims.catalogue_cache import Catalogue, CategoryValue
from grc.claims.models import MAX_DESCRIPTION, IntakeChannel, LocationKind
from grc.text import search_key
from grc.web.words import CHANNEL, LOCATION

CATEGORY_MAX = 200


class ClaimForm(FlaskForm):
    # The catalogue's label as typed or picked from the list ("Ascenseur en panne
    # (ASC-PANNE)"), or the category's code: ``views.category_code`` reads it.
    category = StringField(
        _l("Category"),
        validators=[DataRequired(), Length(max=CATEGORY_MAX)],
        render_kw={"list": "categories", "autocomplete": "off", "spellcheck": "false"},
    )
    location = RadioField(
        _l("Where"),
        choices=[SelectChoice(kind.value, LOCATION[kind]) for kind in LocationKind],
        default=LocationKind.DWELLING.value,
    )
    equipment_id = SelectField(_l("Equipment"), coerce=int, validate_choice=False, default=0)
    channel = SelectField(
        _l("Channel"),
        choices=[SelectChoice(channel.value, CHANNEL[channel]) for channel in IntakeChannel],
        default=IntakeChannel.PHONE.value,
    )
    description = TextAreaField(
        _l("What the tenant says"),
        validators=[DataRequired(), Length(min=3, max=MAX_DESCRIPTION)],
    )

    def validate_equipment_id(self, field: SelectField) -> None:
        # The choices are the equipment of the tenant's building, set by the view.
        offered = {str(choice.value) for choice in field.choices or []}
        if field.data and str(field.data) not in offered:
            raise ValidationError(_l("Choose one of the equipment of this building."))

    resolve_now = BooleanField(_l("Resolved during the call"))
    resolution = TextAreaField(
        _l("Answer given"), validators=[Optional(), Length(max=MAX_DESCRIPTION)]
    )


class TakeCallForm(FlaskForm):
    # The tenant, among those holding the caller's number, whose card opens.
    tenant_id = IntegerField(validators=[Optional()])


class AttachCallForm(FlaskForm):
    # Posted from the claim form: what the tenant said becomes the call's note.
    description = TextAreaField(validators=[Optional(), Length(max=MAX_DESCRIPTION)])


def leaf_categories(catalogue: Catalogue) -> list[CategoryValue]:
    """The categories a claim may have (active, not a domain), by their French label."""
    return sorted(
        (c for c in catalogue.categories() if c.active and c.location_kind is not None),
        key=lambda c: search_key(c.label_fr),
    )


def category_option(category: CategoryValue) -> str:
    """How the list offers a category: its label, then its code, which ``category_code``
    reads back."""
    return f"{category.label_fr} ({category.code})"


_CODE_AT_END = re.compile(r"\(([A-Z0-9-]{2,30})\)\s*$", re.IGNORECASE)


def category_code(typed: str, catalogue: Catalogue) -> str | None:
    """The code of the category the agent typed or picked: an option of the list, a code,
    or a label (accents and case ignored); None when it names none, or several."""
    typed = (typed or "").strip()
    if not typed:
        return None
    leaves = leaf_categories(catalogue)
    codes = {c.code for c in leaves}
    found = _CODE_AT_END.search(typed)
    if found and found.group(1).upper() in codes:
        return found.group(1).upper()
    if typed.upper() in codes:
        return typed.upper()
    key = search_key(typed)
    exact = [c.code for c in leaves if search_key(c.label_fr) == key]
    if len(exact) == 1:
        return exact[0]
    partial = [c.code for c in leaves if key and key in search_key(c.label_fr)]
    return partial[0] if len(partial) == 1 else None
