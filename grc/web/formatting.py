"""How screens write moments and durations, in the reader's language and Europe/Paris
time: "jeu. 12/03 à 14 h", "dans 3 h", "en retard de 2 j"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from babel import Locale
from babel.dates import DateTimePattern, format_timedelta, parse_pattern
from flask import Flask
from flask_babel import get_locale, get_timezone, gettext, pgettext

from grc.db import utcnow
from grc.web import for_page


@dataclass(frozen=True)
class _Formats:
    """How this request writes moments: read once, then used for each of a page's dates (a
    claim page writes hundreds; asking Flask-Babel for the locale, the time zone and the
    pattern's translation for each one was a third of the page's time)."""

    locale: Locale
    tz: tzinfo
    this_year: int
    # (with the year, on the hour) -> pattern
    moments: dict[tuple[bool, bool], DateTimePattern]
    day: DateTimePattern


def _formats() -> _Formats:
    return for_page("formats", _read_formats)


def _read_formats() -> _Formats:
    tz = get_timezone()
    # CLDR date patterns (text in quotes is written as is); French writes "14 h" on the
    # hour and "14 h 30" otherwise, hence a pattern for each.
    moments = {
        (False, True): pgettext("on the hour", "EEE dd/MM 'at' HH:mm"),
        (False, False): pgettext("past the hour", "EEE dd/MM 'at' HH:mm"),
        (True, True): pgettext("on the hour", "EEE dd/MM/y 'at' HH:mm"),
        (True, False): pgettext("past the hour", "EEE dd/MM/y 'at' HH:mm"),
    }
    return _Formats(
        locale=get_locale() or Locale("fr"),
        tz=tz,
        this_year=utcnow().astimezone(tz).year,
        moments={key: parse_pattern(pattern) for key, pattern in moments.items()},
        day=parse_pattern("dd/MM/y"),
    )


def moment(value: datetime | None) -> str:
    """A moment on a screen: weekday, day/month and hour; the year only when it is not
    this year's."""
    if value is None:
        return ""
    formats = _formats()
    local = value.astimezone(formats.tz)
    pattern = formats.moments[(local.year != formats.this_year, local.minute == 0)]
    return pattern.apply(local, formats.locale)


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    formats = _formats()
    if isinstance(value, datetime):
        value = value.astimezone(formats.tz)
    return formats.day.apply(value, formats.locale)


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
    return str(format_timedelta(value, threshold=1.1, format="short", locale=_formats().locale))


def init_app(app: Flask) -> None:
    app.add_template_filter(moment)
    app.add_template_filter(day)
    app.add_template_filter(until)
    app.add_template_filter(duration)
