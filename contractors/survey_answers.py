"""Reading a tenant's SMS answer to a satisfaction survey (a placeholder reader: the full
one, with its table of answers, replaces this module).

``read_survey_answer(text)`` gives a ``SurveyReading``: a score from 1 to 5, "not done",
STOP / START, or unclear (never a score when in doubt).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class AnswerKind(StrEnum):
    SCORE = "score"
    NOT_DONE = "not_done"
    STOP = "stop"
    START = "start"
    UNCLEAR = "unclear"


@dataclass(frozen=True)
class SurveyReading:
    kind: AnswerKind
    score: int | None = None
    comment: str | None = None
    reason: str = ""


_WORDS = {
    "un": 1,
    "une": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
}
_NOT_DONE = re.compile(
    r"\b(pas fait|rien fait|rien n a ete fait|personne n est venu|personne n est venue|"
    r"toujours|pas venu|not done|nothing done|nobody came)\b"
)


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9/]+", " ", folded).split())


def read_survey_answer(text: str) -> SurveyReading:
    plain = _plain(text)
    if plain in ("stop", "arret", "stopall", "unsubscribe"):
        return SurveyReading(AnswerKind.STOP, reason="stop keyword")
    if plain in ("start", "unstop"):
        return SurveyReading(AnswerKind.START, reason="start keyword")
    if _NOT_DONE.search(plain):
        return SurveyReading(AnswerKind.NOT_DONE, comment=text.strip() or None, reason="not done")
    numbers = re.findall(r"(?<![0-9])[0-9]+(?![0-9])", plain.replace("/5", " "))
    words = [_WORDS[w] for w in plain.split() if w in _WORDS]
    found = [int(n) for n in numbers] or words
    if len(set(found)) == 1 and 1 <= found[0] <= 5:
        rest = re.sub(r"^\s*\S+\s*", "", text.strip()) if len(text.split()) > 1 else ""
        return SurveyReading(AnswerKind.SCORE, found[0], rest or None, "one score")
    return SurveyReading(AnswerKind.UNCLEAR, reason="no single score from 1 to 5")
