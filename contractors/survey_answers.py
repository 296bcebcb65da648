"""Reading a tenant's SMS answer to a hot satisfaction survey.

After a claim is resolved the tenant is asked "… vous convient-elle ? Répondez de 1 (pas du
tout) à 5 (tout à fait)" and answers by SMS, in their own words: "4", "4/5", "quatre",
"5 merci beaucoup", "⭐⭐⭐⭐", "2 pas fait", "STOP". :func:`read_survey_answer` turns that
text into a :class:`SurveyReading`. Pure: no Flask, no database, no clock.

The rule throughout: a wrong score is worse than none. A score is read only when one number
from 1 to 5 is clearly the answer; several numbers, a number out of the scale, a decimal, a
number inside a long sentence or words that contradict the score ("1 parfait") give UNCLEAR,
and a person decides. Dates, times, phone numbers, claim references, ordinals and
quantities ("en 2 jours") are never read as scores. Emoji are never mapped to scores; they
only make a score doubtful when they contradict it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from contractors._dates import find_dates, find_times, fold

__all__ = ["AnswerKind", "SurveyReading", "read_survey_answer"]


class AnswerKind(StrEnum):
    """What an answer says. Stored with the answer: the values must not change."""

    SCORE = "score"  # a clear score 1..5, maybe with a comment
    NOT_DONE = "not_done"  # the work was not done or the problem is still there
    STOP = "stop"  # opt-out keyword
    START = "start"  # opt-in keyword
    UNCLEAR = "unclear"  # anything else: a person decides


@dataclass(frozen=True)
class SurveyReading:
    """What :func:`read_survey_answer` understood.

    ``score`` is set only when clearly given (1 to 5), never for UNCLEAR, STOP or START;
    ``comment`` is the rest of the text as written, whitespace folded ("" if none);
    ``reason`` is a short English phrase for a person or a log (it never quotes the text).
    """

    kind: AnswerKind
    score: int | None
    comment: str
    reason: str


LOWEST, HIGHEST = 1, 5

REASON_EMPTY = "empty"
REASON_PUNCTUATION = "punctuation only"
REASON_STOP = "opt-out keyword"
REASON_START = "opt-in keyword"
REASON_SCORE = "score"
REASON_SCORE_COMMENT = "score with a comment"
REASON_NOT_DONE = "work not done"
REASON_EMOJI = "emoji only"
REASON_NO_NUMBER = "no score"
REASON_DATE = "date or time, no score"
REASON_SEVERAL = "several numbers"
REASON_OUT_OF_RANGE = "out of range"
REASON_OTHER_SCALE = "not on the 1 to 5 scale"
REASON_NOT_WHOLE = "not a whole number"
REASON_BURIED = "number inside a sentence"
REASON_ONE_STAR = "a single star"
REASON_STARS = "stars do not add up to five"
REASON_CONTRADICTS = "score contradicts the words"
REASON_MENTIONS_STOP = "mentions stopping messages"


# --- opt-out and opt-in --------------------------------------------------------------------

# The keywords and the comparison of notifications.callbacks.is_stop_keyword and
# is_start_keyword, which the inbound SMS webhook applies: copied because this package
# imports nothing of the application; a test keeps the two equal. Only the whole message
# counts, as at Twilio: "stop aux fuites" is not an opt-out.
_STOP_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
    | {"ARRET", "STOPSMS", "ARRETSMS"}
)
_START_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})


def _keyword(body: str) -> str:
    """Upper case, accents and whitespace removed, surrounding punctuation dropped."""
    decomposed = unicodedata.normalize("NFKD", body)
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    squeezed = "".join(letters.split()).upper()
    return squeezed.strip(".!?,;:-_'\"")


# A message that is not the keyword alone but talks of stopping the messages: not applied
# as an opt-out (the webhook would not either), but no score is read from it.
_MENTIONS_STOP = re.compile(
    r"\b(?:stop|stopp?er|unsubscribe|opt ?out|desabonn\w*|desinscri\w*)\b"
    r"|\barret(?:er|ez)? (?:les |des |de |vos )?(?:sms|messages?|textos?|envois?)\b"
    r"|\bne (?:plus|pas) (?:m'|me )?(?:envoyer|recevoir|contacter)\b"
)


# --- normalising ---------------------------------------------------------------------------

# Dropped before folding: text and emoji presentation selectors, the keycap mark ("4️⃣" is
# "4" U+FE0F U+20E3) and skin tones, so that "4️⃣" reads as "4" and "👍🏽" as "👍".
_DROPPED = frozenset({0xFE0E, 0xFE0F, 0x20E3, *range(0x1F3FB, 0x1F400)})
_KEYCAP_TEN = "\U0001f51f"
_BLANKS = " \n"
_LINE_BREAKS = frozenset("\n\r\v\f\x85\u2028\u2029")


def _normalise(text: str) -> tuple[str, list[int]]:
    """The text folded (see :func:`contractors._dates.fold`: lower case, no accents, plain
    apostrophes; NFKD also turns full-width and circled digits into ASCII ones), each run of
    blanks made one space or one line break; and for each of its characters the index of the
    original one, so that the comment can be cut from the text as the tenant wrote it."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if ord(char) in _DROPPED:
            continue
        for piece in "10" if char == _KEYCAP_TEN else fold(char):
            if not piece.isspace():
                out.append(piece)
                origin.append(index)
            elif out and out[-1] not in _BLANKS:
                out.append("\n" if piece in _LINE_BREAKS else " ")
                origin.append(index)
            elif out and piece in _LINE_BREAKS:
                out[-1] = "\n"  # a blank run with a line break in it is a line break
    while out and out[-1] in _BLANKS:
        out.pop()
        origin.pop()
    return "".join(out), origin


# --- what is not a score -------------------------------------------------------------------

_DIGIT_WORDS = {"deux": 2, "trois": 3, "quatre": 4, "cinq": 5}
_DIGIT_WORDS_EN = {"two": 2, "three": 3, "four": 4, "five": 5}
# "un", "une" and "one" are also articles and pronouns ("toujours une fuite", "no one
# came"): a number only in a score form ("un sur cinq") or as the whole answer.
_ONE_WORDS = {"un": 1, "une": 1, "one": 1}
# Out of the scale; "neuf" (also "new") is left out.
_OTHER_WORDS = {
    "zero": 0, "six": 6, "sept": 7, "huit": 8, "dix": 10, "vingt": 20,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twenty": 20,
}  # fmt: skip
_BARE_WORDS = {**_DIGIT_WORDS, **_DIGIT_WORDS_EN, **_OTHER_WORDS}
_ALL_WORDS = {**_BARE_WORDS, **_ONE_WORDS}


def _alternation(words: dict[str, int]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_NUM = rf"(?:\d+|(?:{_alternation(_ALL_WORDS)})(?![a-z]))"
_BARE_WORD = re.compile(rf"\b(?:{_alternation(_BARE_WORDS)})\b")

_REFERENCE = re.compile(r"\b(?:grc ?)?r ?-? ?\d{4} ?- ?\d{3,}\b")
_PHONE = re.compile(
    r"(?:\+|\b00) ?\d{2,3}[ .-]?\(?0?\)?[ .-]?\d(?:[ .-]?\d{2}){4}\b|\b0\d(?:[ .-]?\d{2}){4}\b"
)
# "le 4/5" is the 4th of May, before "4/5" is read as a score.
_SLASH_DATE = re.compile(r"\b(?:le|du|au|des|on) \d{1,2} ?/ ?\d{1,2}(?: ?/ ?\d{2,4})?(?![\w/])")
# "du 3 au 5", "le cinq": days find_dates does not read (it reads "le 3").
_ARTICLE_DATE = re.compile(
    rf"\b(?:le|du|au|des|from|on) (?:\d{{1,2}}(?:er)?|premier|{_alternation(_BARE_WORDS)})"
    r"(?![\w/])"
)
_YEAR = re.compile(r"\b20\d\d\b")
_ORDINAL = re.compile(r"\b\d+(?:er|ere|eme|ieme|e|nd|nde|st|rd|th)\b")
# A number of something is not a score: "en 2 jours", "2 techniciens", "50 €", "3 fois".
# "1 personne n'est venue" is the tenant's score followed by "nobody came": the singular
# "personne" is not a unit.
_QUANTITY = re.compile(
    rf"(?<![\w.,]){_NUM} ?(?:min|mins|mn|minutes?|h|hrs?|heures?|hours?|j|jours?|days?"
    r"|sem|semaines?|weeks?|mois|months?|ans|annees?|years?|fois|times|euros?|eur|€|%"
    r"|personnes|people|gens|techniciens?|ouvriers?|plombiers?|collegues|voisins|enfants"
    r"|logements?|appartements?|passages?|visites?|visits?"
    r"|interventions?|rdv|rendez-vous|appels?|calls?|relances?|m|cm|mm|m2|etages?|pieces?)"
    r"(?![\w€%])"
)
_BOTH = re.compile(r"\b(?:(?:tous|toutes) )?les deux\b|\bboth\b")
_DECIMAL = re.compile(r"\d+[.,]\d+")


# --- score forms ---------------------------------------------------------------------------

# "4/5", "4 sur 5", "4 (sur 5)", "quatre sur cinq", "4 out of 5"; also "10/10", "20 sur 20"
# (another scale: never rescaled). Not "04/05" nor "4/5/2026": dates.
_FRACTION = re.compile(
    rf"(?<![\w/.,])(?P<n>0|[1-9]\d*|(?:{_alternation(_ALL_WORDS)})(?![a-z]))"
    rf" ?\(?(?:/|sur|out of) ?(?P<d>0|[1-9]\d*|(?:{_alternation(_ALL_WORDS)})(?![a-z]))\)?"
    r"(?![\w/]|[.,]\d)"
)
# The scales a tenant may use instead of ours: read, but never rescaled.
_OTHER_SCALES = frozenset({HIGHEST, 10, 20, 100})
_STARS = "⭐🌟★"
_EMPTY_STAR = "☆"
# "note 4", "note : 4", "je mets un 4", "i give 4", "4 étoiles", "5⭐".
_NAMED = re.compile(
    r"\b(?:ma note(?: est)?|note|score|rating|je (?:mets|met|donne|note|dirais)"
    r"|i (?:give|rate|would say|say))"
    rf" ?(?:de|est|is|of|:|=)? ?(?:un |une |a )?(?P<n>{_NUM})(?![\w/]|[.,]\d)"
    rf"|(?<![\w.,])(?P<m>{_NUM}) ?(?:(?:etoiles?|stars?)(?: (?:sur|out of) (?:5|cinq|five))?"
    rf"|[{_STARS}](?![{_STARS}{_EMPTY_STAR}]))"
)
_STAR_CLUSTER = re.compile(rf"[{_STARS}{_EMPTY_STAR}](?: ?[{_STARS}{_EMPTY_STAR}])*")
_DIGITS = re.compile(r"\d+")
# Words of a reply: a bare number is the answer when it starts or ends it, or when the reply
# is short ("très bien 5 merci"), not when it sits inside a sentence ("il a fallu 3 …").
_TOKEN = re.compile(r"[\w§]+")
_SHORT_REPLY = 4
# ... or when it stands on its own between punctuation or line breaks ("Bonjour, 5. Merci").
_CLAUSE_BOUNDARY = frozenset(".,;:!?()\n")
_MASK = "§"


# --- what the words say --------------------------------------------------------------------

_NOT_DONE = re.compile(
    "|".join(
        (
            # "pas fait", "toujours pas réparé", "pas encore terminé"; not "ne s'est pas fait
            # attendre" nor "n'a pas fait de bruit".
            r"\bpas (?:encore |toujours |vraiment |du tout |ete )*"
            r"(?:fait|termine|fini|repare|regle|resolu|venu|intervenu|depanne|change|remplace)"
            r"e?s?\b(?! (?:attendre|attention|expres|de bruit|de salete|de poussiere|de degats?"
            r"|de mal|d'erreur))",
            r"\b(?:n'est|ne sont|n'etait|ne s'est|ne se sont) (?:toujours |jamais )?pas "
            r"(?:encore )?passee?s?\b",
            r"\brien (?:n'a ete |n'a |d'autre |de )?fait\b",
            r"\baucune? (?:intervention|passage|technicien|reparation|travaux|visite)\b",
            r"\bpersonne (?:n ?'? ?est|est|n'etait|n'a|ne s'est|s'est) (?:jamais |pas |encore )*"
            r"(?:venue?s?|passee?s?|presentee?s?|intervenue?s?|rien fait)\b",
            r"\bjamais (?:ete )?(?:venue?s?|passee?s?)\b",
            r"\b(?:toujours|encore) (?:en |un |une |des |la |le |les |de la |du )?(?:meme )?"
            r"(?:fuites?|panne|problemes?|soucis?|degats?|infiltrations?|humidite|moisissures?)\b",
            r"\b(?:fuit|coule|goutte) (?:toujours|encore)\b",
            r"\b(?:probleme|fuite|panne|souci|infiltration)s? (?:(?:est|sont|reste|restent) "
            r"(?:toujours|encore)|persiste(?:nt)?|continue(?:nt)?|revien(?:t|nent)|recommence"
            r"|toujours)\b",
            r"\b(?:marche|fonctionne|chauffe) (?:toujours |encore )?(?:pas|plus)\b",
            r"\brien (?:n'a |a )?change\b|\b(?:aucun|pas de) changement\b",
            # Someone must come back: the work is not finished.
            r"\b(?:doit|doivent|va|vont|faut|faudra|devra|devront) (?:encore )?"
            r"(?:revenir|repasser|terminer|finir|reprendre)\b",
            r"\b(?:not|never|isn't|wasn't|hasn't|haven't|weren't|aren't) "
            r"(?:yet |been |properly |really )*"
            r"(?:fixed|done|repaired|resolved|solved|finished|completed|sorted)\b",
            r"\b(?:nobody|no one|no-one|noone) (?:has |have |ever |never )*"
            r"(?:came|come|showed up|shown up|turned up|visited|arrived)\b",
            r"\b(?:never|didn't|did not|hasn't|has not|haven't|have not) "
            r"(?:came|come|show up|showed up|turned up|turn up|arrived|arrive)\b",
            r"\bstill (?:leaking|leaks|broken|not working|doesn't work|does not work|dripping"
            r"|a leak|the same|a problem|an issue)\b",
            r"\bnothing (?:was |has been |got |have been )?(?:done|fixed|repaired)\b",
            r"\b(?:has|have|needs?|must|will) (?:to )?come back\b",
            r"\b(?:problem|leak|issue)s? (?:is still|are still|still|persists?|remains?)\b",
        )
    )
)

# Words and emoji that say how it went, only to catch a reversed scale ("1 parfait", "5 nul",
# "1 👍"): they never make a score.
_POSITIVE = re.compile(
    r"\b(?:parfaite?|excellente?|super|geniale?|impeccable|top|tres bien|nickel|bravo"
    r"|formidable|ravie?|contente?|satisfaite?|perfect|great|very good|amazing|awesome|happy"
    r"|satisfied)\b"
    # The label of 5 in the question, unless "pas tout a fait" (a mild 4).
    r"|(?<!pas )\btout a fait(?! ?\w)"
)
_NEGATIVE = re.compile(
    r"\b(?:nul(?:le)?s?|catastroph\w*|honte|honteu\w*|scandal\w*|inadmissible|inacceptable"
    r"|lamentable|deplorable|decue?|decevante?|mecontente?|insatisfaite?|horrible|awful|bad"
    r"|poor|disappointed|disappointing|unhappy|unacceptable)\b"
    # The label of 1 in the question, alone: "pas du tout satisfait" is read above.
    r"|\bpas du tout(?! ?\w)"
)
# "pas top", "pas très satisfait", "not happy": a negated positive word is a negative one;
# a negated negative one ("pas déçu", "not bad") says nothing either way.
_NEGATED = re.compile(
    r"(?:\b(?:pas|plus|jamais|not|never|peu|guere)|n't)"
    r"(?: (?:tres|vraiment|du tout|si|trop|tout a fait|very|really|so|too))? $"
)
_POSITIVE_EMOJI = frozenset("👍😀😃😄😁😊🙂😍🥰👌👏❤💯🙏")
_NEGATIVE_EMOJI = frozenset("👎😡😠🤬😞😢😭😤💩🙁☹😒")


def _polarity(text: str) -> tuple[bool, bool]:
    """Whether ``text`` (normalised) says it went well, and whether it says it went badly."""
    positive = any(char in _POSITIVE_EMOJI for char in text)
    negative = any(char in _NEGATIVE_EMOJI for char in text)
    for match in _POSITIVE.finditer(text):
        if _NEGATED.search(text, 0, match.start()):
            negative = True
        else:
            positive = True
    for match in _NEGATIVE.finditer(text):
        if not _NEGATED.search(text, 0, match.start()):
            negative = True
    return positive, negative


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Number:
    value: int | None  # None: a fraction on another scale ("10/10")
    start: int
    end: int
    bare: bool  # a number alone, not in a score form


class _Masked:
    """The normalised text with what has been read replaced by ``§``, so that each pattern
    only sees what earlier ones left, while positions stay those of the normalised text."""

    def __init__(self, text: str) -> None:
        self.chars = list(text)

    @property
    def text(self) -> str:
        return "".join(self.chars)

    def hide(self, start: int, end: int) -> None:
        self.chars[start:end] = _MASK * (end - start)

    def hide_all(self, pattern: re.Pattern[str]) -> bool:
        found = False
        for match in pattern.finditer(self.text):
            self.hide(*match.span())
            found = True
        return found


def _value(token: str) -> int:
    return int(token) if token.isdigit() else _ALL_WORDS[token]


# find_dates needs a day to resolve "le 3" against; only the spans are used here, so any
# fixed day keeps the reading pure.
_ANY_DAY = date(2026, 1, 1)


def _fractions(masked: _Masked) -> list[_Number]:
    """ "4/5", "4 sur 5"; "10/10" and "20 sur 20" as numbers without a value (another scale).
    Other fractions ("3/4", "12/03") are left to the dates."""
    numbers: list[_Number] = []
    for match in _FRACTION.finditer(masked.text):
        value, scale = _value(match["n"]), _value(match["d"])
        if scale in _OTHER_SCALES:
            numbers.append(_Number(value if scale == HIGHEST else None, *match.span(), bare=False))
            masked.hide(*match.span())
    return numbers


def _hide_not_scores(masked: _Masked) -> bool:
    """Hide dates, times, ordinals and quantities; True when a date or a time was among
    them."""
    text = masked.text
    times = find_times(text)
    spans = [(mention.start, mention.end) for mention in times]
    dates = find_dates(text, _ANY_DAY, blocked=spans)
    spans += [(mention.start, mention.end) for mention in dates]
    for start, end in spans:
        masked.hide(start, end)
    dated = masked.hide_all(_ARTICLE_DATE) or bool(spans)
    dated = masked.hide_all(_YEAR) or dated
    masked.hide_all(_ORDINAL)
    masked.hide_all(_QUANTITY)
    masked.hide_all(_BOTH)
    return dated


def _named(masked: _Masked) -> list[_Number]:
    """ "note 4", "je mets 4", "4 étoiles", "5⭐"."""
    numbers = [
        _Number(_value(match["n"] or match["m"]), *match.span(), bare=False)
        for match in _NAMED.finditer(masked.text)
    ]
    for number in numbers:
        masked.hide(number.start, number.end)
    return numbers


def _bare_numbers(masked: _Masked, normalised: str) -> list[_Number]:
    """Digits and number words left once everything else is hidden; "un", "une", "one" only
    as the whole answer."""
    text = masked.text
    numbers = [_Number(int(m[0]), *m.span(), bare=True) for m in _DIGITS.finditer(text)]
    numbers += [_Number(_BARE_WORDS[m[0]], *m.span(), bare=True) for m in _BARE_WORD.finditer(text)]
    alone = re.sub(r"[\W_]+", "", normalised)
    if alone in _ONE_WORDS:
        start = normalised.index(alone)
        numbers.append(_Number(1, start, start + len(alone), bare=True))
    return sorted(numbers, key=lambda number: number.start)


def _buried(number: _Number, masked_text: str) -> bool:
    """A bare number inside a sentence of a reply of more than a few words."""
    tokens = [match.span() for match in _TOKEN.finditer(masked_text)]
    if len(tokens) <= _SHORT_REPLY:
        return False
    (first_start, first_end), (last_start, last_end) = tokens[0], tokens[-1]
    if first_start <= number.start < first_end or last_start <= number.start < last_end:
        return False
    before = masked_text[: number.start].rstrip(" ")[-1:]
    after = masked_text[number.end :].lstrip(" ")[:1]
    return not (before in _CLAUSE_BOUNDARY and after in _CLAUSE_BOUNDARY)


def _stars(masked: _Masked) -> tuple[list[_Number], str | None]:
    """Star clusters ("⭐⭐⭐⭐", "★★★☆☆") as numbers, or why they cannot be read."""
    numbers: list[_Number] = []
    problem: str | None = None
    for match in _STAR_CLUSTER.finditer(masked.text):
        filled = sum(char in _STARS for char in match[0])
        empty = match[0].count(_EMPTY_STAR)
        masked.hide(*match.span())
        if empty and filled + empty != HIGHEST:
            problem = REASON_STARS
        elif filled + empty == 1:
            # One star alone is as likely a "bravo" as a one-star rating.
            problem = REASON_ONE_STAR
        else:
            numbers.append(_Number(filled, *match.span(), bare=False))
    return numbers, problem


_ORPHAN_MARK = re.compile(r"([,.;:]) [,.;:](?= |$)")


def _comment(text: str, origin: list[int], spans: list[tuple[int, int]]) -> str:
    """``text`` without the score's spans (given in the normalised text, mapped back through
    ``origin``), tidied."""
    keep = [True] * len(text)
    for start, end in spans:
        last = origin[end] if end < len(origin) else len(text)
        for index in range(origin[start], last):
            keep[index] = False
    rest = " ".join("".join(c for c, kept in zip(text, keep, strict=True) if kept).split())
    # "Bonjour, 5. Merci" leaves "Bonjour, . Merci".
    rest = _ORPHAN_MARK.sub(r"\1", rest)
    rest = rest.lstrip(",;:.-–—/|= ").rstrip(",;:-–—/|= ")
    meaningful = any(c.isalnum() or unicodedata.category(c) == "So" for c in rest)
    return rest if meaningful else ""


def _tidy(text: str) -> str:
    return " ".join(text.split())


def read_survey_answer(text: str) -> SurveyReading:
    """Read a tenant's SMS answer to a satisfaction survey (see the module's docstring)."""
    if not text.strip():
        return SurveyReading(AnswerKind.UNCLEAR, None, "", REASON_EMPTY)
    keyword = _keyword(text)
    if keyword in _STOP_KEYWORDS:
        return SurveyReading(AnswerKind.STOP, None, "", REASON_STOP)
    if keyword in _START_KEYWORDS:
        return SurveyReading(AnswerKind.START, None, "", REASON_START)

    normalised, origin = _normalise(text)
    whole = _tidy(text)
    not_done = bool(_NOT_DONE.search(normalised))
    # Order matters: each step sees only what the earlier ones left. "le 4/5" is a date
    # before "4/5" is a score, which is a score before it could be read as the 4th of May.
    masked = _Masked(normalised)
    masked.hide_all(_REFERENCE)
    masked.hide_all(_PHONE)
    dated = masked.hide_all(_SLASH_DATE)
    numbers = _fractions(masked)
    dated = _hide_not_scores(masked) or dated
    decimal = masked.hide_all(_DECIMAL)
    numbers += _named(masked)
    stars, star_problem = _stars(masked)
    numbers += stars
    masked_text = masked.text
    bare = _bare_numbers(masked, normalised)
    numbers += bare
    # "5+", "4++": beyond the scale or between two marks.
    signed = any(masked_text.startswith("+", number.end) for number in bare)

    problems: list[str] = []
    values = {number.value for number in numbers}
    value = next(iter(values)) if len(values) == 1 else None
    if decimal or signed:
        problems.append(REASON_NOT_WHOLE)
    if star_problem:
        problems.append(star_problem)
    if len(values) > 1 or sum(number.value is None for number in numbers) > 1:
        problems.append(REASON_SEVERAL)
    elif values == {None}:
        problems.append(REASON_OTHER_SCALE)
    elif value is not None and not LOWEST <= value <= HIGHEST:
        problems.append(REASON_OUT_OF_RANGE)
    if any(number.bare and _buried(number, masked_text) for number in numbers):
        problems.append(REASON_BURIED)
    score = value if not problems else None
    if score is not None:
        positive, negative = _polarity(normalised)
        if (score >= 4 and negative) or (score <= 2 and positive):
            problems.append(REASON_CONTRADICTS)
            score = None

    if not_done:
        if score is not None and score >= 4:
            # "5 pas fait": the tenant may have read the scale backwards; the work is still
            # not done, the score is left to a person.
            score, problems = None, [REASON_CONTRADICTS]
        if score is None:
            reason = f"{REASON_NOT_DONE}; {problems[0]}" if problems else REASON_NOT_DONE
            return SurveyReading(AnswerKind.NOT_DONE, None, whole, reason)
        comment = _comment(text, origin, [(n.start, n.end) for n in numbers])
        return SurveyReading(AnswerKind.NOT_DONE, score, comment, REASON_NOT_DONE)

    if _MENTIONS_STOP.search(normalised):
        return SurveyReading(AnswerKind.UNCLEAR, None, whole, REASON_MENTIONS_STOP)
    if problems:
        return SurveyReading(AnswerKind.UNCLEAR, None, whole, problems[0])
    if score is None:
        if not any(char.isalnum() for char in normalised):
            has_symbol = any(unicodedata.category(char) == "So" for char in normalised)
            return SurveyReading(
                AnswerKind.UNCLEAR, None, whole, REASON_EMOJI if has_symbol else REASON_PUNCTUATION
            )
        return SurveyReading(
            AnswerKind.UNCLEAR, None, whole, REASON_DATE if dated else REASON_NO_NUMBER
        )
    comment = _comment(text, origin, [(n.start, n.end) for n in numbers])
    return SurveyReading(
        AnswerKind.SCORE, score, comment, REASON_SCORE_COMMENT if comment else REASON_SCORE
    )
