"""Understanding a contractor's (or a tenant's) reply to a work-order email.

Contractors answer the landlord's work order (subject ``[R-2026-000123] Fuite d'eau – …``) by
simply replying. This module turns the plain-text body of such a reply into a
:class:`Reading`: what kind of answer it is (appointment, work done, cannot intervene,
question, acknowledgement, out-of-office), the appointment when one is given, and whether
the reading is confident enough to be applied without a person looking at it.

Three steps, all pure functions (no Flask, no database):

* :func:`extract_new_text` keeps what the sender newly wrote: the quoted work order,
  forwarded blocks, phone and ``-- `` signatures and the lines under a closing are dropped;
* :func:`is_auto_reply` recognises out-of-office answers by their headers, subject or body;
* :func:`read_reply` classifies the new text with French and English wording and reads the
  date and time of a visit (see :mod:`contractors._dates`).

The rule throughout: never guess silently. Whenever signals conflict, a date is missing,
doubled or in the past, the reading says ``confident=False`` and lists short
machine-readable ``notes`` so that a person decides; the appointment or reason found is then
only a suggestion.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import overload
from zoneinfo import ZoneInfo

import quotequail

from contractors._dates import DateMention, TimeMention, find_dates, find_times, fold

__all__ = [
    "Appointment",
    "CannotReason",
    "Reading",
    "ReplyKind",
    "extract_new_text",
    "is_auto_reply",
    "read_reply",
]

PARIS = ZoneInfo("Europe/Paris")


class ReplyKind(StrEnum):
    """What a reply says. Stored in the database: the values must not change."""

    ACKNOWLEDGED = "acknowledged"
    SCHEDULED = "scheduled"
    DONE = "done"
    CANNOT_INTERVENE = "cannot_intervene"
    QUESTION = "question"
    UNCLEAR = "unclear"
    AUTO_REPLY = "auto_reply"


class CannotReason(StrEnum):
    """Why a contractor cannot intervene. Stored in the database."""

    TENANT_ABSENT = "tenant_absent"
    QUOTE_NEEDED = "quote_needed"
    NOT_COVERED = "not_covered"
    OTHER = "other"


@dataclass(frozen=True)
class Appointment:
    """A visit: a time (``end`` is None), a window, or a whole day (``all_day``)."""

    start: datetime
    end: datetime | None
    all_day: bool = False


@dataclass(frozen=True)
class Reading:
    """What :func:`read_reply` understood.

    ``confident=False``: a person must decide and nothing should be applied; the
    ``appointment`` and ``reason`` then are only suggestions (an UNCLEAR reading may carry
    both) and ``notes`` say what made it doubtful.
    """

    kind: ReplyKind
    new_text: str
    appointment: Appointment | None = None
    reason: CannotReason | None = None
    confident: bool = True
    notes: tuple[str, ...] = ()


# Notes: short, stable, machine-readable hints.
NOTE_EMPTY = "empty"
NOTE_NO_SIGNAL = "no signal"
NOTE_CONFLICT = "conflicting signals"
NOTE_ALSO_QUESTION = "also asks a question"
NOTE_SEVERAL_DATES = "several dates"
NOTE_SEVERAL_TIMES = "several times"
NOTE_PAST_DATE = "date in the past"
NOTE_JUST_PASSED = "date may be in the past"
NOTE_PAST_TIME = "time in the past"
NOTE_PAST_DATE_IGNORED = "past date ignored"
NOTE_TIME_WITHOUT_DATE = "time without date"
NOTE_DATE_WITHOUT_VISIT = "date without visit wording"
NOTE_WEEKDAY_MISMATCH = "weekday does not match date"
NOTE_TIME_BOUND = "time is a limit"
NOTE_BAD_WINDOW = "window ends before it starts"
NOTE_VISIT_CANCELLED = "visit cancelled"
NOTE_VISIT_WITHOUT_DATE = "visit without date"
NOTE_SEVERAL_REASONS = "several reasons"
NOTE_DATE_IN_QUESTION = "date in question"
# Why a text that may not be a reply about the work goes to a person.
NOTE_BOUNCE = "delivery report"
NOTE_NEWSLETTER = "newsletter or mailing list"
NOTE_OTHER_LANGUAGE = "neither French nor English"
NOTE_LONG_TEXT = "long text"
NOTE_DATE_SKEW = "sent long before or after it arrived"
NOTE_FAR_AHEAD = "date months ahead"


# --- extract_new_text ----------------------------------------------------------------------

_INVISIBLE = str.maketrans(
    {
        "\u00a0": " ",
        "\u202f": " ",
        "\u2007": " ",
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\ufeff": None,
    }
)
_TOO_MANY_BLANKS = re.compile(r"\n{3,}")

# Each pattern is matched against one folded, stripped line; the first line that matches
# starts what is not the sender's new text.
_HISTORY_LINE = re.compile(
    "|".join(
        (
            # Outlook, Gmail, Thunderbird, Android separators.
            r"^-{2,} ?(?:message d'origine|original message|forwarded message|message transfere"
            r"|message reexpedie|e-?mail d'origine|courriel d'origine|message initial"
            r"|mensaje original|weitergeleitete nachricht) ?-{2,}$",
            r"^_{10,}$",
            r"^(?:debut du message reexpedie|begin forwarded message|message transfere"
            r"|forwarded message) ?:?$",
            # The usual "-- " signature delimiter (trailing space often lost on the way).
            r"^--$",
            # Phone and webmail signatures.
            r"^envoyee? (?:de|depuis|a partir de|via|avec) (?:mon|ma|un|une|l'application|outlook"
            r"|courrier|yahoo|gmail|orange|free|sfr|bouygues)\b.{0,60}$",
            r"^sent (?:from|with|via) .{1,60}$",
            r"^(?:get|obtenir|telecharger|download) outlook (?:for|pour) (?:ios|android).{0,30}$",
            # Outlook headers flattened on one line by an HTML-to-text conversion.
            r"^\*?(?:de|from) ?:.*\b(?:envoye|sent|date) ?:.*\b(?:objet|subject|a|to) ?:",
            # Confidentiality notices and "think before printing" footers.
            r"^(?:ce (?:message|courriel|mail|e-mail)|this (?:e-?mail|message)"
            r"|les informations contenues|the information contained|avant d'imprimer"
            r"|pensez a l'environnement|please consider the environment)\b"
            r".*(?:confidenti|destinataire|intended|imprim|environ|print)",
        )
    )
)
_HEADER_FROM = re.compile(r"^\*?(?:de|from|von) ?:\*? ?\S")
_HEADER_OTHER = re.compile(
    r"^\*?(?:envoye(?: le)?|sent|date|a|to|cc|objet|subject|sujet|pour|reply-to|repondre a"
    r"|importance) ?:\*?"
)
_ATTRIBUTION_START = re.compile(r"^(?:le|on)\s")
_ATTRIBUTION = re.compile(r"^(?:le|on)\s.{4,300}(?:a ecrit|wrote) ?:?$")
_HAS_DIGIT = re.compile(r"\d")
_ADDRESSED_ATTRIBUTION = re.compile(r"^(?=.*[@<]).{3,300}(?:a ecrit|wrote) ?:$")
_QUOTE_MARK = re.compile(r"^\s*>")

_STRONG_CLOSING = re.compile(
    r"^(?:(?:bien |tres |tres bien )?cordialement|cdlt|cordialt|bien a (?:vous|toi)"
    r"|(?:sinceres |meilleures |bonnes )?salutations(?: distinguees)?"
    r"|(?:best|kind|warm|warmest)(?: regards)?|regards|best wishes"
    r"|yours (?:sincerely|faithfully)|sincerely)"
    r"(?:[,.!]*|[,.!]? *[a-z][a-z' .-]{0,40})$"
)
_WEAK_CLOSING = re.compile(
    r"^(?:merci(?: (?:d'avance|par avance|beaucoup|bien|a vous))?"
    r"|thanks?(?: you)?(?: (?:in advance|very much))?|many thanks"
    r"|bonne (?:journee|fin de journee|soiree|semaine)|a bientot)[,.!]*$"
)
_NAME_PARTICLES = frozenset({"de", "du", "des", "la", "le", "et", "&", "-", "–"})


def _looks_like_a_name(line: str) -> bool:
    """ "Jean Martin", "Plomberie Martin SARL": not "Nous passerons demain matin"."""
    words = line.split()
    return 1 <= len(words) <= 4 and all(
        word in _NAME_PARTICLES or (word[0].isupper() and not any(c.isdigit() for c in word))
        for word in words
    )


class _FoldedLines(Sequence[str]):
    """Folded, stripped lines, folded only when looked at: the quoted history under the
    first cut (often most of the message) is never folded."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines
        self._folded: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._lines)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._lines)))]
        if index < 0:
            index += len(self._lines)
        if index not in self._folded:
            self._folded[index] = fold(self._lines[index]).strip()
        return self._folded[index]


def _header_block_start(folded: Sequence[str], index: int) -> int | None:
    """Index where an Outlook-style header block ("De : … Envoyé : … Objet :") starts."""
    if not _HEADER_FROM.match(folded[index]):
        return None
    following = [line for line in folded[index + 1 : index + 5] if line][:3]
    if not any(_HEADER_OTHER.match(line) for line in following):
        return None
    # Thunderbird forwards put "Sujet :" and "Date :" above "De :".
    start = index
    while start > 0 and _HEADER_OTHER.match(folded[start - 1]):
        start -= 1
    return start


def _is_attribution(folded: Sequence[str], index: int) -> bool:
    """ "Le … a écrit :" / "On … wrote:", possibly wrapped over up to three lines."""
    line = folded[index].lstrip("> ")
    if _ADDRESSED_ATTRIBUTION.match(line):
        return True
    # The first line carries the date; a sentence of the reply ("Le locataire est
    # absent.") must not be glued to a real attribution below it.
    if not _ATTRIBUTION_START.match(line) or not _HAS_DIGIT.search(line) or line[-1] in ".!?":
        return False
    joined = line
    for following in folded[index + 1 : index + 3]:
        if _ATTRIBUTION.match(joined):
            return True
        following = following.lstrip("> ")
        if not following:
            return False
        joined = f"{joined} {following}"
    return len(joined) <= 320 and bool(_ATTRIBUTION.match(joined))


def _own_history_start(folded: Sequence[str]) -> int | None:
    for index in range(len(folded)):
        line = folded[index]
        if not line:
            continue
        if _HISTORY_LINE.match(line) or _is_attribution(folded, index):
            return index
        header_start = _header_block_start(folded, index)
        if header_start is not None:
            return header_start
    return None


def _quotequail_history_start(lines: list[str]) -> int | None:
    # quotequail knows reply and forward introductions in a dozen languages; only its
    # pattern search is used (quote()), not unwrap(), whose header detection also fires on
    # two innocent lines such as "Objet : …" / "Date : …" written by the contractor.
    offset = 0
    while offset < len(lines):
        rest = lines[offset:]
        parts = quotequail.quote("\n".join(rest), limit=len(rest) + 1, quote_intro_line=True)
        if len(parts) < 2:
            return None
        top = parts[0][1]
        found = offset + (top.count("\n") + 1 if top else 0)
        # It glues any line to the next one to find a wrapped "Le … a écrit :"; a line
        # that ends a sentence ("Le locataire était absent.") is not the start of one.
        if not lines[found].rstrip().endswith((".", "!", "?")):
            return found
        offset = found + 1
    return None


def _drop_signature(lines: list[str]) -> list[str]:
    """Keep a closing line ("Cordialement,") but not the name, company and phone under it."""
    folded = _FoldedLines(lines)
    seen_content = False
    for index in range(len(folded)):
        line = folded[index]
        if not line:
            continue
        if seen_content and _STRONG_CLOSING.match(line):
            return lines[: index + 1]
        if seen_content and _WEAK_CLOSING.match(line):
            # "Merci" may be followed by more text; only a name under it starts a signature.
            after = [rest for rest in lines[index + 1 :] if rest.strip()]
            if not after or _looks_like_a_name(after[0]):
                return lines[: index + 1]
        seen_content = True
    return lines


def _new_text_lines(lines: list[str], *, depth: int = 0) -> list[str]:
    own_start = _own_history_start(_FoldedLines(lines))
    cut = len(lines) if own_start is None else own_start
    # quotequail can only matter above our own cut (a line further: its patterns may wrap).
    library_start = _quotequail_history_start(lines[: cut + 1])
    if library_start is not None:
        cut = min(cut, library_start)
    kept = [line for line in lines[:cut] if not _QUOTE_MARK.match(line)]
    if not any(line.strip() for line in kept) and cut < len(lines) and depth == 0:
        # Bottom-posting: the attribution and the quoted order come first, the answer after.
        rest = lines[cut:]
        for offset, line in enumerate(rest[:4]):
            if _QUOTE_MARK.match(line):
                after_quote = offset
                while after_quote < len(rest) and (
                    _QUOTE_MARK.match(rest[after_quote]) or not rest[after_quote].strip()
                ):
                    after_quote += 1
                return _new_text_lines(rest[after_quote:], depth=1)
        return []
    return _drop_signature(kept)


# A sentence end followed by "Le …" / "On …" on the same line: where an attribution typed
# after the reply ("Parfait, c'est réparé. Le lun. 7 déc. 2026 à 09:00, X a écrit :") starts.
_INLINE_ATTRIBUTION_START = re.compile(r"(?<=[.!?])\s+(?=(?:le|on|Le|On|LE|ON)\s)")
_ATTRIBUTION_VERB = re.compile(r"(?:a [ée]crit|wrote)\s*:", re.IGNORECASE)


def _split_inline_attributions(lines: list[str]) -> list[str]:
    """Put an attribution written on the same line as the reply on a line of its own, so that
    cutting the history there keeps the reply."""
    out: list[str] = []
    for index, line in enumerate(lines):
        around = " ".join(lines[index : index + 3])
        if _QUOTE_MARK.match(line) or not _ATTRIBUTION_VERB.search(around):
            out.append(line)
            continue
        for found in _INLINE_ATTRIBUTION_START.finditer(line):
            own, rest = line[: found.start()], line[found.end() :]
            if _is_attribution(_FoldedLines([rest, *lines[index + 1 : index + 3]]), 0):
                out.extend((own, rest))
                break
        else:
            out.append(line)
    return out


def extract_new_text(text: str) -> str:
    """What the sender newly wrote: no quoted history, forwarded block or signature.

    Handles Outlook (FR/EN separators and "De : … Objet :" header blocks), Gmail and Apple
    Mail ("Le … a écrit :", "On … wrote:", also wrapped over two lines), Thunderbird,
    ``>``-quoted lines, forwarded blocks, phone signatures ("Envoyé de mon iPhone", "Get
    Outlook for Android"…) and the ``-- `` delimiter. A closing line ("Cordialement,") is
    kept; the name, company and phone lines under it are dropped. Runs of blank lines become
    one blank line; line breaks are kept.
    """
    normalized = text.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE)
    lines = _split_inline_attributions([line.rstrip() for line in normalized.split("\n")])
    kept = _new_text_lines(lines)
    return _TOO_MANY_BLANKS.sub("\n\n", "\n".join(kept)).strip()


# --- signals -------------------------------------------------------------------------------


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")(?![a-z])")


_DONE = _words(
    r"remise?s? en (?:service|route|marche|etat|fonctionnement)",
    r"c'est (?:fait|regle)",
    r"(?:probleme|panne|fuite|souci|incident) (?:est |a ete )?(?:regle|resolu)e?",
    r"le necessaire a ete fait",
    r"job done",
    r"(?:is|are|was|were|has been|have been) (?:now )?done",
    r"work (?:is |has been )?done",
    r"all done",
    r"(?:it|that)(?:'s| is| has been) done",
    r"all sorted|(?:is|are|it's|that's) (?:now )?sorted",
    r"no more (?:leak|leaks|leaking|water|noise)",
)
# A bare participle says the work is done only when it is about the work (see _about_work):
# "fixed rate", "rates are fixed", "chiffre réalisé" are not "fuite réparée".
_DONE_WORD = _words(
    r"(?:termine|acheve|fini|realise|effectue|repare|resolu)(?:e|s|es)?",
    r"(?P<english>completed|finished|fixed|repaired|resolved|replaced)",
)
_WORK_WORDS = _words(
    r"travaux|travail|intervention|reparation|depannage|remplacement|fuite|panne|probleme"
    r"|souci|incident|degat|chaudiere|chauffe[- ]eau|ballon|robinet|evier|lavabo|wc|toilettes?"
    r"|chasse d'eau|canalisation|tuyau|joint|radiateur|chauffage|ascenseur|porte|serrure"
    r"|fenetre|volet|vitre|interphone|prise|electricite|disjoncteur|compteur|plomberie|vmc"
    r"|ventilation|infiltration|bouchon|engorgement|desinsectisation|mission|logement",
    r"work|works|job|repairs?|leak|fault|problem|issue|boiler|heater|heating|tap|faucet|sink"
    r"|toilet|pipe|radiator|lift|elevator|door|lock|window|shutter|intercom|socket|plumbing"
    r"|ventilation|blockage",
)
# "c'est réparé", "nous avons terminé", "it's fixed", "we fixed": someone says they did it.
_DONE_SUBJECT = re.compile(
    r"(?:\bc'est|\btout (?:est|a ete)|\bca a ete|\bnous avons|\bavons|\bj'ai|\bon a|\bont"
    r"|\b(?:it|that|this|everything|all)(?:'s| is| was| has been| have been)?|\bwe(?:'ve| have)?"
    r"|\bi(?:'ve| have)?)"
    r"(?: (?:bien|deja|enfin|now|all|fully|already|finally|just|successfully))* $"
)


# Words that may follow an English participle used as a verb ("fixed the tap", "repaired
# yesterday"); any other word makes it an adjective ("fixed rate", "finished goods").
def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_VERB_FOLLOWERS = _word_set(
    "a an the it this that these those them all everything your our my his her their its now"
    " today yesterday tonight on at in by and with as before after already properly"
    " successfully ok okay earlier up for without last just fully also so thanks thank please"
    " but yet too then there here again since off out both completely entirely correctly"
    " permanently cheers regards kind best around about from to morning afternoon"
)
_PASSIVE_WORDS = _word_set("is are was were been be being get got gets")
_ADVERBS = _word_set("now all fully already finally just has have had successfully")
_PRONOUN_SUBJECTS = _word_set("it that this everything all which they these those")
_NEXT_WORD = re.compile(r"[ \t]*([a-z']+)")
# A reply this short is direct: a bare "Réparé." or "Fixed." is about the work.
_SHORT_WORDS = 30

_ACKNOWLEDGED = _words(
    r"bien (?:recue?|note)",
    r"c'est note",
    r"(?:bien )?prise? en (?:compte|charge)",
    r"pren(?:ons|d|ds|nent) en charge",
    r"(?:nous nous|on s'|je m'|il s'|s')en occup(?:ons|e|ent)",
    r"demande (?:bien )?(?:receptionnee|recue|enregistree)",
    r"accus(?:e|ons) (?:bonne )?reception",
    r"nous (?:revenons|reviendrons) vers vous",
    r"nous allons (?:planifier|organiser|programmer)",
    r"(?:c'est |je suis |nous sommes )?d'accord",
    r"we(?:'ll| will| are going to) (?:handle|take care|look into|deal with|get back|arrange)",
    r"we(?: are|'re) on it",
)
# Bare English acknowledgements count only in a short reply: "received" is also in every
# delivery report and newsletter.
_ACKNOWLEDGED_WORD = _words(r"noted|well received|received|acknowledged|on it")
_TENANT_ABSENT = _words(
    r"(?:locataire|occupant|resident|habitant)e?s? (?:etai(?:t|ent) |est |sont )?"
    r"(?:absente?s?|injoignables?|introuvables?)",
    r"absence (?:du|de la|des|de l') ?(?:locataire|occupant|resident)",
    r"personne n'(?:etait|est|a ete) (?:present|la|au domicile|sur place)",
    r"il n'y avait personne",
    r"personne (?:au domicile|sur place|a la maison)",
    r"personne (?:ne nous a ouvert|n'a repondu|ne repond)",
    r"(?:trouve )?porte (?:close|fermee)",
    # "le numéro de la locataire ne répond pas" is about a phone, not a visit.
    r"(?<!numero de la )(?<!numero de l')(?<!telephone de la )(?<!portable de la )"
    r"(?:locataire|occupant)e? (?:ne repond pas|n'a pas repondu|ne nous a pas ouvert)",
    r"(?:locataire|occupant|resident)e?s? n'(?:etai(?:t|ent)|est|a ete) pas (?:present|la"
    r"|chez (?:lui|elle)|au domicile)",
    r"(?:no ?one|nobody) (?:was |is )?(?:home|there|in|present|answered)",
    r"tenant (?:was |is )?(?:absent|not (?:at )?home|not (?:there|present|in)|unavailable"
    r"|unreachable)",
)
_QUOTE_NEEDED = _words(
    r"devis",
    r"chiffrage",
    r"quot(?:e|ation) (?:is |will be )?(?:required|needed|necessary|to follow)",
    r"(?:send|provide|prepare|submit)(?:ing)? (?:you )?(?:a |our |the )?(?:quote|quotation"
    r"|estimate)",
    r"(?:need|needs|require|requires) (?:a )?(?:quote|quotation)",
    r"estimate (?:required|needed)",
)
# A quote that was already accepted is history, not a reason to stop.
_QUOTE_SETTLED_AFTER = re.compile(r"s? (?:accepte|valide|signe|approuve)")
_QUOTE_SETTLED_BEFORE = re.compile(
    r"(?:accord sur|acceptation d[ue]|validation d[ue]|suite (?:a|au)|selon|conformement (?:a|au)"
    r"|vu)(?: votre| notre| le| du| au| l'acceptation du| la validation du)? ?$"
)
_NOT_COVERED = _words(
    r"hors (?:du |de notre |de votre |de nos )?(?:contrat|perimetre|champ|garantie|marche)",
    r"(?:ne|n') ?(?:releve|rentre|entre|fait|est) (?:pas|plus) (?:de|dans|partie de|du ressort de)"
    r" (?:notre|nos|votre|ce|le|du|la) (?:contrat|perimetre|competence|marche|prestation"
    r"|ressort|cadre|mission)",
    r"(?:pas|non) (?:compris|couvert|inclus|prevu)e?s? (?:dans|par) (?:le|notre|votre|ce|nos)"
    r" (?:contrat|marche)",
    r"non couvert",
    r"not covered",
    r"outside (?:the |our )?(?:scope|contract)",
    r"not (?:included|part of) (?:in )?(?:the |our )?contract",
    r"out of scope",
)
_CANNOT_OTHER = _words(
    r"impossible d'(?:intervenir|acceder|entrer)",
    r"impossible de (?:passer|venir|realiser|effectuer|proceder|nous rendre|nous deplacer)",
    r"(?:intervention|acces|passage) impossible",
    r"(?:ne|n') ?(?:pourrons|pouvons|pourra|peut|pourrai|peux|pourrions|pourrait|allons|va)"
    r" pas (?:passer|venir|intervenir|nous deplacer|etre (?:present|la)|effectuer|realiser)",
    r"(?:ne|n') ?(?:passerons|passera|viendrons|viendra|interviendrons|interviendra) pas",
    r"(?:ne|n') ?(?:avons|a|ai) pas pu (?:passer|venir|intervenir|acceder|entrer|effectuer"
    r"|realiser)",
    r"(?:ne sommes|n'est|ne serons) pas en mesure d'intervenir",
    r"(?:n'a|n'ont|n'avons) pas pu etre (?:realise|effectue|fait|termine)e?s?",
    r"(?:cannot|can't|can not|could not|couldn't|won't be able to|will not be able to"
    r"|unable to|not able to) (?:come|attend|make it|intervene|visit|access|get in|carry out)",
)
# A visit called off: a date in the same clause is the old appointment, not a new one
# ("la locataire annule le rendez-vous de jeudi").
_CALLED_OFF = _words(
    r"annul\w*",
    r"decommand\w*",
    r"report(?:e|es|ee|ees|er|ons|ez) (?:le |la |du |de la |notre |votre )?(?:rendez[- ]vous|rdv"
    r"|passage|visite|intervention)",
    r"cancel\w*",
    r"call(?:ed|s|ing)? off",
)
# An announced visit: enough for an acknowledgement even without a date.
_VISIT_INTENT = _words(
    r"(?:re)?passer(?:ons|a|ai)",
    r"(?:re)?viendr(?:ons|a|ai)",
    r"interviendr(?:ons|a|ai)",
    r"(?:nous allons|on va|je vais|il va|va) (?:passer|repasser|intervenir|venir|revenir)",
    r"(?:nous|on|je) (?:passe|passons|repasse|repassons|intervenons|intervient|viens|venons)",
    r"passage (?:prevu|planifie|programme|fixe)",
    r"intervention (?:prevue|planifiee|programmee|fixee)",
    r"rdv|rendez[- ]vous",
    r"we(?:'ll| will| shall| are going to) (?:come|attend|visit|be there|be on site|return)",
    r"will (?:come|attend|visit|be there|be on site)",
    r"scheduled|appointment|booked|planned",
)
# Wording that makes a date read as the day of a visit.
_VISIT_CUE = _words(
    r"(?:re)?pass(?:er|age|e|ons|erons|era)",
    r"interven(?:ir|tion|ons)|interviendr\w*",
    r"technicien|visite|creneau|sur place|deplacement|prevue?|planifiee?|programmee?",
    r"plombier|electricien|chauffagiste|equipe",
    r"come|visit|technician|engineer|attend|on site|plumber|electrician",
)
# Matched at a clause start with match(text, pos): no "^", which would not anchor at pos.
_QUESTION_START = re.compile(
    r"\s*(?:(?:bonjour|bonsoir|hello|hi|madame|monsieur)\b[\s,!]*)*"
    r"(?:pouvez[- ]vous|pourriez[- ]vous|pourrions[- ]nous|pouvons[- ]nous|peut[- ]on"
    r"|est[- ]ce que|auriez[- ]vous|avez[- ]vous|quel(?:le)?s? (?:est|sont)"
    r"|merci de (?:bien vouloir )?(?:nous |me )?(?:indiquer|communiquer|transmettre|preciser"
    r"|confirmer|donner|dire|faire (?:parvenir|savoir)|envoyer|adresser)"
    r"|could you|can you|would you|do you|is there|what is|what's"
    r"|please (?:let (?:us|me) know|confirm|advise|send|provide|tell))\b"
)
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n+")
_CLAUSE_BREAK = re.compile(r"[,;]|:(?=\s)|\s(?:mais|but|cependant|however|par contre)\s|\s-\s")
_NEGATION_WORDS = frozenset(
    {"ne", "pas", "non", "jamais", "aucun", "aucune", "not", "never", "cannot", "nullement"}
)
_FUTURE_WORDS = frozenset(
    {
        "sera",
        "seront",
        "serons",
        "serez",
        "serait",
        "seraient",
        "etre",
        "will",
        "be",
        "va",
        "vont",
        "devrait",
        "devraient",
        "doit",
        "doivent",
        "pourra",
        "pourront",
        "going",
    }
)


@dataclass
class _Layout:
    """Sentences, clauses and question scopes of a folded text."""

    text: str
    sentence_starts: list[int] = field(default_factory=list)
    clause_starts: list[int] = field(default_factory=list)
    questions: list[tuple[int, int]] = field(default_factory=list)

    @classmethod
    def of(cls, text: str) -> _Layout:
        layout = cls(text)
        start = 0
        for boundary in [*_SENTENCE_END.finditer(text), None]:
            end = boundary.end() if boundary else len(text)
            if text[start:end].strip():
                layout._add_sentence(start, end)
            start = end
        return layout

    def _add_sentence(self, start: int, end: int) -> None:
        self.sentence_starts.append(start)
        clauses = [start] + [m.end() for m in _CLAUSE_BREAK.finditer(self.text, start, end)]
        self.clause_starts.extend(clauses)
        asking = [c for c in clauses if _QUESTION_START.match(self.text, c, end)]
        if self.text[start:end].rstrip().endswith("?"):
            # The question is the clause that asks, not "Locataire absent," before it.
            self.questions.append((asking[0] if asking else clauses[-1], end))
        elif asking:
            self.questions.append((asking[0], end))

    def sentence_of(self, position: int) -> int:
        return self.sentence_starts[max(bisect.bisect_right(self.sentence_starts, position) - 1, 0)]

    def clause_of(self, position: int) -> int:
        return self.clause_starts[max(bisect.bisect_right(self.clause_starts, position) - 1, 0)]

    def asked(self, position: int) -> bool:
        return any(start <= position < end for start, end in self.questions)

    def words_before(self, position: int, count: int) -> list[str]:
        return self.text[self.clause_of(position) : position].split()[-count:]


def _negated(words: list[str]) -> bool:
    return any(
        word in _NEGATION_WORDS or word.startswith("n'") or word.endswith("n't") for word in words
    )


@dataclass
class _Signals:
    done: bool = False
    acknowledged: bool = False
    intent: bool = False
    visit_cue: bool = False
    reasons: list[tuple[int, CannotReason]] = field(default_factory=list)
    # Clauses where a visit is called off ("nous ne pourrons pas passer demain").
    cancelling_clauses: set[int] = field(default_factory=set)
    called_off: bool = False  # a visit cancelled or postponed


def _asserted(
    layout: _Layout, matches: Iterable[re.Match[str]], *, negatable: bool, past_only: bool
) -> list[re.Match[str]]:
    """Matches that state something: not asked, not negated, not announced for later."""
    kept = []
    for match in matches:
        if layout.asked(match.start()):
            continue
        if negatable and _negated(layout.words_before(match.start(), 3)):
            continue
        if past_only and _FUTURE_WORDS.intersection(layout.words_before(match.start(), 2)):
            continue
        kept.append(match)
    return kept


def _quote_matches(layout: _Layout) -> list[re.Match[str]]:
    text = layout.text
    return [
        match
        for match in _QUOTE_NEEDED.finditer(text)
        if not _QUOTE_SETTLED_AFTER.match(text, match.end())
        and not _QUOTE_SETTLED_BEFORE.search(text, max(match.start() - 40, 0), match.start())
    ]


def _about_work(layout: _Layout, match: re.Match[str], *, short: bool) -> bool:
    """Whether a bare "réparé" / "fixed" says the work is done: a verb (not "fixed rate"),
    whose subject, if any, is the work ("the leak is fixed", not "rates are fixed"), in a
    sentence about the work or a short direct reply."""
    text = layout.text
    before = [word.strip(',.;:!?()"') for word in layout.words_before(match.start(), 6)]
    if match["english"]:
        following = _NEXT_WORD.match(text, match.end())
        if following and following.group(1) not in _VERB_FOLLOWERS:
            return False
        chain = list(before)
        passive = False
        while chain and (chain[-1] in _PASSIVE_WORDS or chain[-1] in _ADVERBS):
            passive = passive or chain[-1] in _PASSIVE_WORDS
            chain.pop()
        if passive and chain:
            subject = chain[-1].removesuffix("'s")
            if subject not in _PRONOUN_SUBJECTS and not _WORK_WORDS.fullmatch(subject):
                return False
    if short or _DONE_SUBJECT.search(text, layout.clause_of(match.start()), match.start()):
        return True
    sentence = layout.sentence_of(match.start())
    end = next((s for s in layout.sentence_starts if s > sentence), len(text))
    return bool(_WORK_WORDS.search(text, sentence, end))


def _signals(layout: _Layout) -> _Signals:
    text = layout.text
    signals = _Signals()
    short = len(text.split()) <= _SHORT_WORDS
    done_words = [m for m in _DONE_WORD.finditer(text) if _about_work(layout, m, short=short)]
    signals.done = bool(
        _asserted(layout, [*_DONE.finditer(text), *done_words], negatable=True, past_only=True)
    )
    acknowledged = list(_ACKNOWLEDGED.finditer(text))
    if short:
        acknowledged.extend(_ACKNOWLEDGED_WORD.finditer(text))
    signals.acknowledged = bool(_asserted(layout, acknowledged, negatable=True, past_only=False))
    signals.intent = bool(
        _asserted(layout, _VISIT_INTENT.finditer(text), negatable=True, past_only=False)
    )
    signals.visit_cue = bool(_VISIT_CUE.search(text))
    for reason, matches in (
        (CannotReason.TENANT_ABSENT, _TENANT_ABSENT.finditer(text)),
        (CannotReason.QUOTE_NEEDED, _quote_matches(layout)),
        (CannotReason.NOT_COVERED, _NOT_COVERED.finditer(text)),
        (CannotReason.OTHER, _CANNOT_OTHER.finditer(text)),
    ):
        for match in _asserted(layout, matches, negatable=False, past_only=False):
            signals.reasons.append((match.start(), reason))
            if reason is CannotReason.OTHER:
                signals.cancelling_clauses.add(layout.clause_of(match.start()))
    for match in _asserted(layout, _CALLED_OFF.finditer(text), negatable=True, past_only=False):
        signals.called_off = True
        signals.cancelling_clauses.add(layout.clause_of(match.start()))
    signals.reasons.sort(key=lambda found: found[0])
    return signals


@dataclass(frozen=True)
class _Found:
    """Every date and time mention of a folded text (clock times are never dates)."""

    dates: tuple[DateMention, ...]
    times: tuple[TimeMention, ...]

    @classmethod
    def of(cls, text: str, today: date) -> _Found:
        times = find_times(text)
        clocks = [(t.start, t.end) for t in times if not t.day_part]
        return cls(tuple(find_dates(text, today, blocked=clocks)), tuple(times))


@dataclass
class _When:
    """The visit the text announces, after dropping references, history and questions."""

    days: list[date] = field(default_factory=list)  # distinct, today or later
    past_days: list[date] = field(default_factory=list)
    times: list[TimeMention] = field(default_factory=list)
    floating_times: list[TimeMention] = field(default_factory=list)
    weekday_mismatch: bool = False
    just_passed: bool = False
    notes: list[str] = field(default_factory=list)


def _when(
    layout: _Layout,
    signals: _Signals,
    found: _Found,
    today: date,
    *,
    history_context: bool,
) -> _When:
    when = _When()
    dates: list[DateMention] = []
    for mention in found.dates:
        if layout.asked(mention.start):
            when.notes.append(NOTE_DATE_IN_QUESTION)
        elif mention.reference or layout.clause_of(mention.start) in signals.cancelling_clauses:
            continue
        elif history_context and (mention.day <= today or mention.just_passed):
            # "Intervention réalisée ce jour", "locataire absent le 09/03": when it happened.
            continue
        else:
            dates.append(mention)

    # "passage du 09/03" written on 10 March is last visit's day, not next year's.
    future = [m for m in dates if m.day >= today and not m.just_passed]
    past = [m for m in dates if m.day < today or m.just_passed]
    when.days = sorted({m.day for m in future})
    when.past_days = [] if future else sorted({m.day for m in past})
    if future and past:
        when.notes.append(NOTE_PAST_DATE_IGNORED)
    live = future or past
    when.weekday_mismatch = any(m.weekday_mismatch for m in live)
    when.just_passed = any(m.just_passed for m in live)

    # A time belongs to the nearest date of its sentence; one alone in its sentence
    # belongs to whatever single date the text gives.
    for time_mention in found.times:
        if layout.asked(time_mention.start):
            continue
        if layout.clause_of(time_mention.start) in signals.cancelling_clauses:
            continue
        sentence = layout.sentence_of(time_mention.start)
        near = [d for d in found.dates if layout.sentence_of(d.start) == sentence]
        if not near:
            when.floating_times.append(time_mention)
            continue
        nearest = min(near, key=lambda d: _distance(d, time_mention))
        if nearest in live:
            when.times.append(time_mention)
    return when


def _distance(day: DateMention, moment: TimeMention) -> int:
    return min(abs(day.start - moment.end), abs(moment.start - day.end))


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    # A naive written_at is taken as wall-clock time where the landlord is.
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)


def _appointment(
    day: date, times: list[TimeMention], now: datetime, tz: ZoneInfo, notes: list[str]
) -> tuple[Appointment, bool]:
    """The appointment on ``day`` and whether it is precise enough to apply."""
    clocks = [t for t in times if not t.day_part] or [t for t in times if t.day_part]
    distinct = {(t.begin, t.finish) for t in clocks}
    whole_day = Appointment(datetime.combine(day, time(0), tzinfo=tz), None, all_day=True)
    if not clocks:
        return whole_day, True
    if len(distinct) > 1:
        notes.append(NOTE_SEVERAL_TIMES)
        return whole_day, False
    chosen = clocks[0]
    confident = True
    start = datetime.combine(day, chosen.begin, tzinfo=tz)
    end = datetime.combine(day, chosen.finish, tzinfo=tz) if chosen.finish else None
    if end is not None and end <= start:
        notes.append(NOTE_BAD_WINDOW)
        end, confident = None, False
    if chosen.bound:
        notes.append(NOTE_TIME_BOUND)
        confident = False
    if (end or start) < now:
        notes.append(NOTE_PAST_TIME)
        confident = False
    return Appointment(start, end), confident


def _scheduled(
    when: _When, signals: _Signals, now: datetime, tz: ZoneInfo, notes: list[str]
) -> tuple[Appointment | None, bool]:
    """The appointment the text gives and whether it can be applied as it is."""
    if len(when.days) > 1:
        notes.append(NOTE_SEVERAL_DATES)
        return None, False
    if when.days:
        day, confident = when.days[0], True
    elif when.past_days:
        if when.past_days[0] < now.date():
            notes.append(NOTE_PAST_DATE)
        if len(when.past_days) > 1:
            notes.append(NOTE_SEVERAL_DATES)
            return None, False
        day, confident = when.past_days[0], False
    else:
        notes.append(NOTE_TIME_WITHOUT_DATE)
        return None, False
    times = when.times or when.floating_times
    appointment, precise = _appointment(day, times, now, tz, notes)
    confident = confident and precise
    if not times and not (signals.visit_cue or signals.intent):
        notes.append(NOTE_DATE_WITHOUT_VISIT)
        confident = False
    if when.weekday_mismatch:
        notes.append(NOTE_WEEKDAY_MISMATCH)
        confident = False
    if when.just_passed:
        notes.append(NOTE_JUST_PASSED)
        confident = False
    return appointment, confident


def _has_schedule(when: _When, signals: _Signals) -> bool:
    if when.days:
        return True
    if when.past_days:
        return signals.visit_cue or signals.intent or bool(when.times)
    return bool(when.floating_times) and (signals.intent or signals.visit_cue)


# --- is_auto_reply -------------------------------------------------------------------------

_AUTO_SUBJECT = re.compile(
    r"^\s*(?:reponse automatique|automatic reply|auto-?reply|autoreply|auto ?:"
    r"|out of (?:the )?office|absent du bureau|absente du bureau|message d'absence"
    r"|absence(?: du bureau| prolongee)? ?(?:[:(\-]|$))"
)
# One of these is enough in a short body; "je serai absent" alone is not (a tenant may
# write it about a visit).
_OUT_OF_OFFICE_STRONG = _words(
    r"absente? du bureau",
    r"hors du bureau",
    r"out of (?:the )?office",
    r"acces (?:tres )?limite a (?:mes|ma|mon) (?:e-?mails?|mails?|messagerie|courriels?|messages)",
    r"limited access to (?:my )?(?:e-?mails?|messages)",
    r"reponse automatique|automatic reply|message automatique|auto-?reply",
    r"je n'aurai pas acces a (?:mes|ma) (?:e-?mails?|mails?|messagerie|courriels?)",
)
_OUT_OF_OFFICE_WEAK = _words(
    r"je suis (?:actuellement )?(?:absente?|en conges?|en deplacement|en vacances)",
    r"je serai (?:absente?|en conges?|en vacances)",
    r"de retour (?:le|au bureau|a partir du|lundi|mardi|mercredi|jeudi|vendredi)",
    r"a mon retour",
    r"je prendrai connaissance",
    r"pour toute urgence|en cas d'urgence",
    r"i(?: am|'m) (?:currently )?(?:away|on leave|on holiday|on vacation|off)",
    r"back (?:in the office )?on",
    r"upon my return|when i return|on my return",
    r"for urgent (?:matters|requests)|in case of emergency",
)
_AUTO_HEADERS_PRESENT = ("x-autoreply", "x-autorespond", "x-autoresponder")
_SHORT_BODY = 1500


def _lowered(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): (value or "").strip().lower() for name, value in headers.items()}


def _auto_reply(
    lowered: Mapping[str, str], subject: str, layout: _Layout, signals: _Signals
) -> bool:
    auto_submitted = lowered.get("auto-submitted")
    if auto_submitted is not None and auto_submitted != "no":
        return True
    if any(lowered.get(name, "no") not in ("no", "false", "0") for name in _AUTO_HEADERS_PRESENT):
        return True
    if lowered.get("precedence") == "auto_reply":
        return True
    if _AUTO_SUBJECT.match(fold(subject)):
        return True

    text = layout.text
    if not text or len(text) > _SHORT_BODY:
        return False
    actionable = signals.done or signals.intent or signals.reasons or bool(layout.questions)
    if actionable:
        return False
    if _OUT_OF_OFFICE_STRONG.search(text):
        return True
    weak = len(_OUT_OF_OFFICE_WEAK.findall(text))
    # Outlook marks its own out-of-office answers with X-Auto-Response-Suppress, but so do
    # some ordinary messages: it only lowers the bar for the body wording.
    needed = 1 if "x-auto-response-suppress" in lowered else 2
    return weak >= needed


def is_auto_reply(headers: Mapping[str, str], subject: str, text: str) -> bool:
    """True for an out-of-office or other automatic answer.

    Headers (names case-insensitive): ``Auto-Submitted`` other than "no", ``X-Autoreply``,
    ``X-Autorespond``, ``Precedence: auto_reply`` (``bulk`` and ``list`` mark newsletters, not
    out-of-office answers: :func:`read_reply` sends those to a person). Subject: "Réponse
    automatique", "Automatic reply", "Absence …:", "Auto:", "Out of Office", "Absent du
    bureau". Body: a short text with out-of-office wording and nothing actionable (no visit,
    no work done, no refusal, no question). ``X-Auto-Response-Suppress`` alone is not
    enough: it only makes weaker body wording suffice.
    """
    layout = _Layout.of(fold(extract_new_text(text)))
    return _auto_reply(_lowered(headers), subject, layout, _signals(layout))


# --- not a reply about the work -------------------------------------------------------------

# Delivery reports: a bounce quotes our order and says "received", "delivered", "failed".
_BOUNCE_SENDER = re.compile(r"\b(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon)@")
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:undeliver(?:ed|able)|delivery (?:status notification|failure|has failed|report)"
    r"|mail delivery (?:failed|failure|subsystem)|returned mail|failure notice"
    r"|(?:message )?non (?:remis|distribue)|remise impossible|echec de (?:la )?(?:remise|livraison)"
    r"|rapport de (?:non-)?remise|unzustellbar|read:|lu :|receipt)"
)
_BOUNCE_WORDING = _words(
    r"could not be delivered|delivery (?:has )?failed|undeliverable|permanent (?:error|failure)",
    r"n'a pas pu etre (?:remis|distribue|delivre)e?|remise (?:a echoue|impossible)",
    r"mailbox (?:unavailable|full|not found)|user unknown|address rejected",
)
_LIST_HEADERS = ("list-id", "list-unsubscribe", "list-post")
_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})
_LINK = re.compile(r"https?://|\bwww\.")
_MANY_LINKS = 4
# Replies are short; a newsletter, a forwarded report or a pasted document is not one.
_LONG_TEXT = 1200


def _is_bounce(lowered: Mapping[str, str], subject: str, layout: _Layout) -> bool:
    content_type = lowered.get("content-type", "")
    if content_type.startswith("multipart/report") or "report-type=" in content_type:
        return True
    if "x-failed-recipients" in lowered or _BOUNCE_SENDER.search(lowered.get("from", "")):
        return True
    if _BOUNCE_SUBJECT.match(fold(subject)):
        return True
    return bool(_BOUNCE_WORDING.search(layout.text))


def _is_newsletter(lowered: Mapping[str, str], new_text: str) -> bool:
    if any(name in lowered for name in _LIST_HEADERS):
        return True
    if lowered.get("precedence") in _BULK_PRECEDENCE:
        return True
    return len(_LINK.findall(new_text)) >= _MANY_LINKS


# The commonest short words of each language, folded. French and English replies are full of
# theirs; a mail in another language has more of its own. Cheap, no model to load, and
# enough to tell "Die Termine sind bestätigt" from "Travaux terminés".
_STOP_WORDS = {
    "fr": "le la les un une des de du et est a au aux ce cet cette ces il elle nous vous je on ne"
    " pas pour par sur dans avec que qui sont ete etait sera merci bonjour cordialement votre"
    " notre mon ma mes se sa son en y plus tout tres bien c d l j n qu s mais ou donc car"
    " entre vers chez sans sous apres avant aussi avons avez sommes suis ai cela ca leur lui"
    " me ici puis deja encore comme si oui non demain aujourd hui",
    "en": "the a an and is are was were be been to of in on for with at by it this that we you i"
    " our your not have has will would can please thanks thank hello hi regards from as do"
    " all any there their they me my",
    "de": "der die das und ist nicht ich sie es zu den mit von dem ein eine einen sich auf fur"
    " auch wir ihr ihre sind war wird bei oder aber wie noch nach uber hallo danke bitte gruss"
    " grusse freundlichen sehr geehrte damen herren im wenn werden haben",
    "es": "el la los las de que y en un una es por con para no se su al lo como mas pero sus le"
    " ya o este si porque esta entre cuando muy sin sobre tambien hola gracias saludos usted",
    "it": "il di che e la per un una non sono del della le da in con si lo gli ho ha questo"
    " ciao grazie saluti buongiorno cordiali sua nel alla",
    "nl": "de het een en van ik te dat die in is niet op aan met voor zijn er maar ook om als"
    " dan bij nog wij jullie hallo bedankt groeten graag",
    "pt": "o a os as de que e do da em um uma para com nao por se mais na no ola obrigado"
    " atenciosamente voce",
}
_STOP_SETS = {language: frozenset(words.split()) for language, words in _STOP_WORDS.items()}
_WORD = re.compile(r"[^\W\d_]+")
_FEW_WORDS = 5


def _other_language(folded: str) -> bool:
    """A text that reads as neither French nor English (an "OK" or a date is too short to
    tell, and passes)."""
    words = _WORD.findall(folded)
    if len(words) < _FEW_WORDS:
        return False
    latin = [word for word in words if word.isascii()]
    if len(latin) * 2 < len(words):
        return True  # mostly another script
    counts = {
        language: sum(word in stop for word in latin) for language, stop in _STOP_SETS.items()
    }
    ours = max(counts["fr"], counts["en"])
    theirs = max(count for language, count in counts.items() if language not in ("fr", "en"))
    return theirs > ours


# A Date this far from the arrival makes "demain" doubtful; a visit this far ahead is likely
# a misread date; one that ended this long before the arrival is over.
_MAX_DATE_SKEW = timedelta(days=2)
_FAR_AHEAD = timedelta(days=60)
_VISIT_PAST_TOLERANCE = timedelta(hours=1)


def _doubts(
    reading: Reading,
    lowered: Mapping[str, str],
    layout: _Layout,
    written: datetime,
    received: datetime | None,
) -> tuple[list[str], bool]:
    """Why this reading must go to a person, and whether the text is a reply at all."""
    doubts: list[str] = []
    if _is_newsletter(lowered, reading.new_text):
        doubts.append(NOTE_NEWSLETTER)
    if _other_language(layout.text):
        doubts.append(NOTE_OTHER_LANGUAGE)
    not_a_reply = bool(doubts)
    if len(reading.new_text) > _LONG_TEXT:
        doubts.append(NOTE_LONG_TEXT)
    if received is None:
        return doubts, not_a_reply
    # Dates were read against the mail's own Date; far from its arrival, that anchor (or the
    # mail itself) is doubtful.
    if abs(received - written) > _MAX_DATE_SKEW:
        doubts.append(NOTE_DATE_SKEW)
    appointment = reading.appointment
    if appointment is not None:
        last = appointment.end or (
            appointment.start + timedelta(days=1) if appointment.all_day else appointment.start
        )
        already_past = {NOTE_PAST_TIME, NOTE_PAST_DATE}.intersection(reading.notes)
        if last < received - _VISIT_PAST_TOLERANCE and not already_past:
            doubts.append(NOTE_PAST_TIME)
        if appointment.start - received > _FAR_AHEAD:
            doubts.append(NOTE_FAR_AHEAD)
    return doubts, not_a_reply


# --- read_reply ----------------------------------------------------------------------------


def _cannot_reason(signals: _Signals, notes: list[str]) -> tuple[CannotReason, bool]:
    specific = list(
        dict.fromkeys(reason for _, reason in signals.reasons if reason is not CannotReason.OTHER)
    )
    if not specific:
        return CannotReason.OTHER, True
    if len(specific) > 1:
        notes.append(NOTE_SEVERAL_REASONS)
        return specific[0], False
    return specific[0], True


def read_reply(
    text: str,
    *,
    written_at: datetime,
    tz: ZoneInfo = PARIS,
    headers: Mapping[str, str] | None = None,
    subject: str = "",
    received_at: datetime | None = None,
) -> Reading:
    """Classify a reply to a work order and read the appointment it gives, if any.

    ``written_at`` (aware, or naive wall-clock time in ``tz``) anchors relative dates
    ("demain", "jeudi", "le 12") and dates without a year, which are the next such day on
    or after the day of writing: pass the mail's own ``Date``. ``received_at`` is when it
    arrived: a ``Date`` more than two days from it, or a visit before it or more than 60 days
    after it, makes the reading doubtful. The returned appointment is in ``tz``.

    Only a reply about the work is read with confidence: a delivery report, a newsletter
    (list headers, ``Precedence: bulk``, many links), a text in another language than French
    or English, or a long text goes to a person with the reason in ``notes``.
    """
    new_text = extract_new_text(text)
    layout = _Layout.of(fold(new_text))
    signals = _signals(layout)
    lowered = _lowered(headers or {})
    if _is_bounce(lowered, subject, layout):
        return Reading(ReplyKind.UNCLEAR, new_text, confident=False, notes=(NOTE_BOUNCE,))
    if _auto_reply(lowered, subject, layout, signals):
        return Reading(ReplyKind.AUTO_REPLY, new_text)
    if not new_text:
        return Reading(ReplyKind.UNCLEAR, new_text, confident=False, notes=(NOTE_EMPTY,))

    written = _local(written_at, tz)
    reading = _read(new_text, layout, signals, written, tz)
    received = _local(received_at, tz) if received_at is not None else None
    doubts, not_a_reply = _doubts(reading, lowered, layout, written, received)
    if not doubts:
        return reading
    return dataclasses.replace(
        reading,
        kind=ReplyKind.UNCLEAR if not_a_reply else reading.kind,
        confident=False,
        notes=_unique([*doubts, *reading.notes]),
    )


def _read(
    new_text: str, layout: _Layout, signals: _Signals, now: datetime, tz: ZoneInfo
) -> Reading:
    today = now.date()
    found = _Found.of(layout.text, today)
    strong_reasons = bool(signals.reasons) and not (
        all(reason is CannotReason.OTHER for _, reason in signals.reasons)
        and _cancels_only(layout, signals, found, today)
    )
    history_context = signals.done or strong_reasons
    when = _when(layout, signals, found, today, history_context=history_context)
    scheduled = _has_schedule(when, signals)
    asks = bool(layout.questions)

    # A visit called off and replaced by another date is a new appointment, not a refusal.
    cannot = strong_reasons or (bool(signals.reasons) and not scheduled)
    kinds = [
        kind
        for kind, present in (
            (ReplyKind.DONE, signals.done),
            (ReplyKind.CANNOT_INTERVENE, cannot),
            (ReplyKind.SCHEDULED, scheduled),
        )
        if present
    ]

    notes = list(when.notes)
    appointment: Appointment | None = None
    reason: CannotReason | None = None
    confident = True
    if scheduled:
        appointment, confident = _scheduled(when, signals, now, tz, notes)
    if cannot:
        reason, reason_clear = _cannot_reason(signals, notes)
        confident = confident and reason_clear
        if not strong_reasons:
            notes.append(NOTE_VISIT_CANCELLED)
            confident = False

    if len(kinds) > 1:
        notes.append(NOTE_CONFLICT)
        return Reading(ReplyKind.UNCLEAR, new_text, appointment, reason, False, _unique(notes))
    if kinds:
        if asks:
            notes.append(NOTE_ALSO_QUESTION)
            confident = False
        if kinds[0] is ReplyKind.DONE:
            return Reading(ReplyKind.DONE, new_text, confident=confident, notes=_unique(notes))
        return Reading(kinds[0], new_text, appointment, reason, confident, _unique(notes))
    if asks:
        return Reading(ReplyKind.QUESTION, new_text, notes=_unique(notes))
    if signals.acknowledged or signals.intent:
        if signals.intent:
            notes.append(NOTE_VISIT_WITHOUT_DATE)
        if signals.called_off:
            # "Rendez-vous annulé", "nous annulons jeudi et passerons vendredi": what happens
            # next, a person reads.
            notes.append(NOTE_VISIT_CANCELLED)
            return Reading(ReplyKind.ACKNOWLEDGED, new_text, confident=False, notes=_unique(notes))
        return Reading(ReplyKind.ACKNOWLEDGED, new_text, notes=_unique(notes))
    notes.append(NOTE_NO_SIGNAL)
    return Reading(ReplyKind.UNCLEAR, new_text, confident=False, notes=_unique(notes))


def _cancels_only(layout: _Layout, signals: _Signals, found: _Found, today: date) -> bool:
    """Every "cannot" is about a future date ("pas passer demain"): a postponement."""
    future_clauses = {layout.clause_of(m.start) for m in found.dates if m.day >= today}
    return bool(signals.cancelling_clauses) and signals.cancelling_clauses <= future_clauses


def _unique(notes: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(notes))
