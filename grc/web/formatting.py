"""How screens write moments and durations, in the reader's language and Europe/Paris
time: "jeu. 12/03 à 14 h", "dans 3 h", "en retard de 2 j"."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from babel.dates import format_timedelta
from flask import Flask
from flask_babel import (
    format_date,
    format_datetime,
    get_locale,
    gettext,
    pgettext,
    to_user_timezone,
)

from grc.db import utcnow


def moment(value: datetime | None) -> str:
    """A moment on a screen: weekday, day/month and hour; the year only when it is not
    this year's."""
    if value is None:
        return ""
    local = to_user_timezone(value)
    this_year = to_user_timezone(utcnow()).year == local.year
    # CLDR date patterns (text in quotes is written as is); French writes "14 h" on the
    # hour and "14 h 30" otherwise, hence a pattern for each.
    if this_year:
        pattern = (
            pgettext("on the hour", "EEE dd/MM 'at' HH:mm")
            if local.minute == 0
            else pgettext("past the hour", "EEE dd/MM 'at' HH:mm")
        )
    else:
        pattern = (
            pgettext("on the hour", "EEE dd/MM/y 'at' HH:mm")
            if local.minute == 0
            else pgettext("past the hour", "EEE dd/MM/y 'at' HH:mm")
        )
    return format_datetime(value, pattern)


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "dd/MM/y")
    return format_date(value, "dd/MM/y")


def until(deadline: datetime | None, now: datetime | None = None) -> str:
    """Time left before ``deadline`` ("dans 3 h"), or how late it is ("en retard de 2 j")."""
    if deadline is None:
        return ""
    left = deadline - (now or utcnow())
    if left >= timedelta(0):
        return gettext("in %(duration)s", duration=_duration(left))
    return gettext("%(duration)s late", duration=_duration(-left))


def duration(value: timedelta | None) -> str:
    return "" if value is None else _duration(value)


def _duration(value: timedelta) -> str:
    return str(format_timedelta(value, threshold=1.1, format="short", locale=get_locale()))


def init_app(app: Flask) -> None:
    app.add_template_filter(moment)
    app.add_template_filter(day)
    app.add_template_filter(until)
    app.add_template_filter(duration)
