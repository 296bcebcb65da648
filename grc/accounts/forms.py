from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from grc.accounts.passwords import MAX_LENGTH, MIN_LENGTH


class SignInForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


def _new_password(label: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired(),
            Length(
                min=MIN_LENGTH,
                max=MAX_LENGTH,
                message=_l(
                    "Between %(min)d and %(max)d characters.", min=MIN_LENGTH, max=MAX_LENGTH
                ),
            ),
        ],
    )


class ChoosePasswordForm(FlaskForm):
    password = _new_password(_l("New password"))
    confirm = PasswordField(
        _l("The same password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class ChangePasswordForm(ChoosePasswordForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
