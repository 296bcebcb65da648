"""Dates and times as contractors and tenants write them, in French and English.

Works on *folded* text (see :func:`fold`): lower case, no accents, straight apostrophes,
plain spaces. Every mention keeps its character span so that the caller can tell which
sentence or clause it belongs to.

Own regular expressions rather than ``dateparser.search``: on whole sentences it reads
"le" or a lone "14h" as dates, and it costs about 0.6 ms a call (100 ms for the first) where
these tables cost microseconds. Dates are day-first (France) and a date without a year is
the next such day on or after the day the message was written.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, time, timedelta

_TYPOGRAPHY = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "`": "'",
        "\u00b4": "'",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2007": " ",
        "\u2009": " ",
        "\u2011": "-",
        "\u2010": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u0153": "oe",
        "\u00e6": "ae",
        "\u00df": "ss",
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\ufeff": None,
    }
)
_SPACES = re.compile(r"[ \t]+")


def fold(text: str) -> str:
    """Lower case, accents dropped, typographic apostrophes, dashes and spaces made plain.

    Line breaks are kept: sentences and clauses are found on them.
    """
    lowered = text.lower().translate(_TYPOGRAPHY)
    decomposed = unicodedata.normalize("NFKD", lowered)
    ascii_like = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", ascii_like)


# --- names -------------------------------------------------------------------------------

_MONTHS = {
    "janvier": 1, "janv": 1, "january": 1, "jan": 1,
    "fevrier": 2, "fevr": 2, "fev": 2, "february": 2, "feb": 2,
    "mars": 3, "march": 3, "mar": 3,
    "avril": 4, "avr": 4, "april": 4, "apr": 4,
    "mai": 5, "may": 5,
    "juin": 6, "june": 6, "jun": 6,
    "juillet": 7, "juil": 7, "july": 7, "jul": 7,
    "aout": 8, "august": 8, "aug": 8,
    "septembre": 9, "september": 9, "sept": 9, "sep": 9,
    "octobre": 10, "october": 10, "oct": 10,
    "novembre": 11, "november": 11, "nov": 11,
    "decembre": 12, "december": 12, "dec": 12,
}  # fmt: skip
_WEEKDAYS = {
    "lundi": 0, "monday": 0,
    "mardi": 1, "tuesday": 1,
    "mercredi": 2, "wednesday": 2,
    "jeudi": 3, "thursday": 3,
    "vendredi": 4, "friday": 4,
    "samedi": 5, "saturday": 5,
    "dimanche": 6, "sunday": 6,
}  # fmt: skip


def _alternation(words: dict[str, int]) -> str:
    # Longest first so that "sept" is not read as "sep" followed by junk.
    return "|".join(sorted(words, key=len, reverse=True))


_MONTH = rf"(?P<month>{_alternation(_MONTHS)})\.?(?![a-z])"
_WEEKDAY = rf"(?P<weekday>{_alternation(_WEEKDAYS)})(?![a-z])"
_ORDINAL = r"(?:er|st|nd|rd|th|e)?"

# --- times -------------------------------------------------------------------------------

# A number of hours after these words is a duration or a delay ("sous 48h", "en 2h"), not
# the time of a visit.
_DURATION_BEFORE = re.compile(
    r"\b(?:sous|dans|en|pendant|durant|environ|d'environ|d'ici|within|approx|approximately"
    r"|duree(?: estimee)?|estimee?|prevoir|prevoyez|compter|comptez|(?:plus|moins) de)"
    r" ?:?\s+(?:(?:les|environ|de|a)\s+)?$"
)
_BOUND_BEFORE = re.compile(r"\b(?:avant|before|jusqu'a|until|till|au plus tard a)\s+$")
_HOUR_MIN = r"(?P<{h}>\d{{1,2}})\s*(?:h|heures?)\s*(?P<{m}>\d{{2}})?(?![a-z\d])"
_CLOCK = (
    _HOUR_MIN.format(h="h1", m="m1")
    + r"|(?<![\d:])(?P<h2>\d{1,2}):(?P<m2>\d{2})(?![\d:])(?:\s*(?P<ampm2>[ap])\.?m\.?(?![a-z]))?"
    + r"|(?P<h3>\d{1,2})\s*(?P<ampm3>[ap])\.?m\.?(?![a-z])"
    + r"|(?<!apres[- ])(?<![a-z])(?P<noon>midi|noon)(?![a-z-])"
)
_TIME = re.compile(rf"(?<![\d/.])(?:{_CLOCK})")
# Two clock times joined: "9h-12h", "entre 8h et 12h", "de 8h a 12h", "between 8am and noon".
# Used with match(text, pos, endpos): "^" would not anchor at pos, "$" does at endpos.
_WINDOW_JOIN = re.compile(r"\s*(?:et|and|a|to|-|/|jusqu'a|until)\s*$")
# "entre 8 et 12h": the first bound without its "h".
_BARE_WINDOW = re.compile(
    r"\b(?:entre|de|between|from)\s+(?P<h1>\d{1,2})\s*(?:et|and|a|to|-)\s*"
    r"(?P<h2>\d{1,2})\s*(?:h\s*(?P<m2>\d{2})?(?![a-z\d])|(?P<ampm>[ap])\.?m\.?(?![a-z]))"
)
_DAY_PARTS = (
    # Longest wording first: "fin d'apres-midi" must not be read as "apres-midi".
    (
        re.compile(
            r"\b(?:en |dans la |in the )?(?:fin de journee|fin d'apres[- ]?midi"
            r"|end of (?:the )?day|late afternoon)\b"
        ),
        time(16),
        time(18),
    ),
    (re.compile(r"\b(?:apres[- ]?midi|aprem|afternoon)\b"), time(14), time(18)),
    (re.compile(r"\b(?:matin(?:ee)?|morning)\b"), time(8), time(12)),
)


@dataclass(frozen=True)
class TimeMention:
    """A clock time or a window, with its span in the folded text."""

    start: int
    end: int
    begin: time
    finish: time | None = None
    day_part: bool = False  # "matin", "apres-midi": weaker than a clock time
    bound: bool = False  # "avant 12h": a limit, not the time of the visit


def _clock(hours: str, minutes: str | None, am_pm: str | None = None) -> time | None:
    hour, minute = int(hours), int(minutes or 0)
    if am_pm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if am_pm == "p" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _time_of(match: re.Match[str]) -> time | None:
    groups = match.groupdict()
    if groups["h1"]:
        return _clock(groups["h1"], groups["m1"])
    if groups["h2"]:
        return _clock(groups["h2"], groups["m2"], groups["ampm2"])
    if groups["h3"]:
        return _clock(groups["h3"], None, groups["ampm3"])
    return time(12)


def find_times(text: str) -> list[TimeMention]:
    """Clock times, windows and parts of the day, in order of appearance."""
    found: list[TimeMention] = []
    taken: list[tuple[int, int]] = []
    for match in _BARE_WINDOW.finditer(text):
        first = _clock(match["h1"], None, match["ampm"])
        last = _clock(match["h2"], match["m2"], match["ampm"])
        if first and last:
            found.append(TimeMention(match.start(), match.end(), first, last))
            taken.append(match.span())

    clocks: list[tuple[re.Match[str], time]] = []
    for match in _TIME.finditer(text):
        if _overlaps(match.span(), taken) or _DURATION_BEFORE.search(text, 0, match.start()):
            continue
        value = _time_of(match)
        if value is not None:
            clocks.append((match, value))

    index = 0
    while index < len(clocks):
        match, value = clocks[index]
        if index + 1 < len(clocks):
            next_match, next_value = clocks[index + 1]
            if _WINDOW_JOIN.match(text, match.end(), next_match.start()):
                found.append(TimeMention(match.start(), next_match.end(), value, next_value))
                taken.append((match.start(), next_match.end()))
                index += 2
                continue
        bound = bool(_BOUND_BEFORE.search(text, 0, match.start()))
        found.append(TimeMention(match.start(), match.end(), value, bound=bound))
        taken.append(match.span())
        index += 1

    for pattern, begin, finish in _DAY_PARTS:
        for match in pattern.finditer(text):
            if not _overlaps(match.span(), taken):
                found.append(TimeMention(match.start(), match.end(), begin, finish, day_part=True))
                taken.append(match.span())
    return sorted(found, key=lambda mention: mention.start)


# --- dates -------------------------------------------------------------------------------

_ISO = re.compile(r"(?<![\d/.-])(?P<year>20\d\d)-(?P<month>\d\d)-(?P<day>\d\d)(?![\d/.-])")
_NUMERIC = re.compile(
    rf"(?:{_WEEKDAY}\s+)?(?<![\d/.-])(?P<day>\d{{1,2}})"
    r"(?:/(?P<m_slash>\d{1,2})(?:/(?P<y_slash>\d{4}|\d\d))?"
    r"|\.(?P<m_dot>\d\d)(?:\.(?P<y_dot>\d{4}|\d\d))?"
    r"|-(?P<m_dash>\d{1,2})-(?P<y_dash>\d{4}|\d\d))"
    r"(?![\d]|[/.-]\d)"
)
_DAY_MONTH = re.compile(
    rf"(?:{_WEEKDAY},?\s+(?:the\s+)?)?\b(?P<day>\d{{1,2}}|premier){_ORDINAL}\s+"
    rf"(?:de\s+|of\s+)?{_MONTH}(?:,?\s+(?P<year>20\d\d)(?!\d))?"
)
_MONTH_DAY = re.compile(
    rf"(?:{_WEEKDAY},?\s+)?\b{_MONTH}\s+(?:the\s+)?(?P<day>\d{{1,2}}){_ORDINAL}(?![\d:h])"
    r"(?:,?\s+(?P<year>20\d\d)(?!\d))?"
)
# "le 12", "jeudi 12", "on the 12th": a day of this month or the next. Not a number of
# anything ("le 12 rue…", "le 3e etage") nor a time.
_DAY_ONLY = re.compile(
    rf"(?:{_WEEKDAY}\s+(?:the\s+)?|\b(?:le|on the|the)\s+)(?P<day>\d{{1,2}}|1er){_ORDINAL}"
    r"(?![\d/.:-]|\s*(?:h\b|heures?\b|[%€]|eur|rue|av|bd|bis\b|ter\b|jours?\b|mois\b|semaines?\b"
    r"|ans?\b|min|m2|etage|eme\b|ieme\b|days?\b|weeks?\b|months?\b|floor|street|st\b))"
)
_RELATIVE = re.compile(
    r"\b(?P<word>apres[- ]demain|day after tomorrow|demain|tomorrow|aujourd'hui|aujourdhui"
    r"|today|ce jour|hier|yesterday|tonight|ce(?= (?:matin|soir)\b)|cet(?= apres[- ]?midi\b)"
    r"|this(?= (?:morning|afternoon|evening)\b))\b"
)
_RELATIVE_DAYS = {
    "apres-demain": 2, "apres demain": 2, "day after tomorrow": 2,
    "demain": 1, "tomorrow": 1,
    "hier": -1, "yesterday": -1,
}  # fmt: skip
_WEEKDAY_ALONE = re.compile(
    rf"\b(?:(?P<this>ce|this)\s+|(?:next|on|coming)\s+)?{_WEEKDAY}(?:\s+(?:prochain|next))?"
)
# "du lundi au vendredi": opening hours, not a day.
_WEEKDAY_RANGE = re.compile(
    rf"\b(?:du\s+)?{_WEEKDAY}\s+(?:au|a|to|-)\s+(?:{_alternation(_WEEKDAYS)})\b"
)
# "votre mail du 09/03", "notre demande du 10 mars": a reference to a message, not a visit.
_REFERENCE_BEFORE = re.compile(
    r"\b(?:mail|e-?mail|courriel|message|demande|courrier|echange|appel|commande|ordre de service"
    r"|bon de commande|bon|envoi|devis|facture|request|letter|call|order|quote|invoice)"
    r"\s+(?:du|en date du|of|dated|from)\s+(?:le\s+)?$"
)


@dataclass(frozen=True)
class DateMention:
    """A calendar day named in the text, with its span in the folded text."""

    start: int
    end: int
    day: date
    weekday_mismatch: bool = False  # "jeudi 13 mars" when the 13th is a Friday
    reference: bool = False  # "votre mail du 09/03"
    # Written without a year (or month) and that day has only just passed: "le 09/03" on
    # 10 March is read as next year, but more likely means yesterday.
    just_passed: bool = False


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in spans)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


# How recently a day must have passed for a date without a year (or month) to read as
# "just passed" rather than as next year's (or next month's) day.
_JUST_PASSED_DAY_MONTH = timedelta(days=62)
_JUST_PASSED_DAY_ONLY = timedelta(days=7)


def _passed_day_month(day: int, month: int, today: date) -> bool:
    for year in (today.year, today.year - 1):
        candidate = _safe_date(year, month, day)
        if candidate and candidate < today:
            return today - candidate <= _JUST_PASSED_DAY_MONTH
    return False


def _passed_day_of_month(day: int, today: date) -> bool:
    year, month = today.year, today.month
    for _ in range(2):
        candidate = _safe_date(year, month, day)
        if candidate and candidate < today:
            return today - candidate <= _JUST_PASSED_DAY_ONLY
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return False


def _next_day_month(day: int, month: int, today: date) -> date | None:
    # The 29th of February may be four years away; anything else is this year or the next.
    for year in range(today.year, today.year + 5):
        candidate = _safe_date(year, month, day)
        if candidate and candidate >= today:
            return candidate
    return None


def _next_day_of_month(day: int, today: date) -> date | None:
    year, month = today.year, today.month
    for _ in range(3):
        candidate = _safe_date(year, month, day)
        if candidate and candidate >= today:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _full_year(text: str) -> int:
    return 2000 + int(text) if len(text) == 2 else int(text)


def _day_number(text: str) -> int:
    return 1 if text in ("1er", "premier") else int(text)


def _weekday_after(weekday: int, today: date, *, include_today: bool) -> date:
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and not include_today:
        ahead = 7
    return today + timedelta(days=ahead)


def find_dates(
    text: str, today: date, *, blocked: list[tuple[int, int]] | None = None
) -> list[DateMention]:
    """Calendar days named in ``text``, resolved against ``today``, in order of appearance.

    ``blocked`` spans (clock times already found) are never read as dates.
    """
    taken: list[tuple[int, int]] = list(blocked or [])
    found: list[DateMention] = []

    def keep(match: re.Match[str], day: date | None, *, just_passed: bool = False) -> None:
        if day is None:
            return
        weekday = match.groupdict().get("weekday")
        mismatch = weekday is not None and _WEEKDAYS[weekday] != day.weekday()
        reference = bool(_REFERENCE_BEFORE.search(text, max(match.start() - 40, 0), match.start()))
        found.append(DateMention(match.start(), match.end(), day, mismatch, reference, just_passed))
        taken.append(match.span())

    def fresh(pattern: re.Pattern[str]) -> list[re.Match[str]]:
        return [m for m in pattern.finditer(text) if not _overlaps(m.span(), taken)]

    for match in fresh(_ISO):
        keep(match, _safe_date(int(match["year"]), int(match["month"]), int(match["day"])))

    for match in fresh(_NUMERIC):
        month_text = match["m_slash"] or match["m_dot"] or match["m_dash"]
        year_text = match["y_slash"] or match["y_dot"] or match["y_dash"]
        day, month = int(match["day"]), int(month_text)
        if year_text:
            keep(match, _safe_date(_full_year(year_text), month, day))
        elif 1 <= month <= 12:
            passed = _passed_day_month(day, month, today)
            keep(match, _next_day_month(day, month, today), just_passed=passed)

    for pattern in (_DAY_MONTH, _MONTH_DAY):
        for match in fresh(pattern):
            day, month = _day_number(match["day"]), _MONTHS[match["month"]]
            if match["year"]:
                keep(match, _safe_date(int(match["year"]), month, day))
            else:
                passed = _passed_day_month(day, month, today)
                keep(match, _next_day_month(day, month, today), just_passed=passed)

    for match in fresh(_DAY_ONLY):
        day = _day_number(match["day"])
        passed = _passed_day_of_month(day, today)
        keep(match, _next_day_of_month(day, today), just_passed=passed)

    for match in fresh(_RELATIVE):
        word = match["word"]
        keep(match, today + timedelta(days=_RELATIVE_DAYS.get(word, 0)))

    for match in _WEEKDAY_RANGE.finditer(text):
        taken.append(match.span())
    for match in fresh(_WEEKDAY_ALONE):
        weekday = _WEEKDAYS[match["weekday"]]
        # "ce jeudi" written on a Thursday is today; a bare "jeudi" is the next one.
        on = _weekday_after(weekday, today, include_today=bool(match["this"]))
        found.append(DateMention(match.start(), match.end(), on))
        taken.append(match.span())

    return sorted(found, key=lambda mention: mention.start)
