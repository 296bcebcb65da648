"""The arithmetic of a poll, pure (no Flask, no database): the sample's allocation to the
agencies, the satisfaction rate and its margin of error, and reading a tenant's SMS answer on
the four-point scale.

The scale is the regulatory surveys': 1 Très satisfait, 2 Plutôt satisfait, 3 Plutôt pas
satisfait, 4 Pas du tout satisfait. A question's satisfaction rate is the share of 1 and 2
among its answers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from contractors._dates import fold

K = TypeVar("K")

VALUES = (1, 2, 3, 4)
SATISFIED = frozenset({1, 2})
# 95 % two-sided.
Z_95 = 1.96
# Fewer answers than this in a group: no rate is shown ("pas assez de réponses").
MIN_ANSWERS = 5


def allocate(populations: Mapping[K, int], total: int) -> dict[K, int]:
    """Proportional allocation of a sample of ``total`` over strata of these sizes, by the
    largest remainder (Hamilton): each stratum gets the whole part of its share, the units
    left go to the largest fractional parts (ties to the larger stratum, then in the
    mapping's order). No stratum gets more than its size; ``total`` above the whole
    population takes everyone."""
    population = sum(populations.values())
    if population <= 0 or total <= 0:
        return dict.fromkeys(populations, 0)
    if total >= population:
        return dict(populations)
    quotas = {key: size * total / population for key, size in populations.items()}
    shares = {key: math.floor(quota) for key, quota in quotas.items()}
    left = total - sum(shares.values())
    order = list(populations)
    ranked = sorted(
        order, key=lambda key: (-(quotas[key] - shares[key]), -populations[key], order.index(key))
    )
    for key in ranked[:left]:
        shares[key] += 1
    return shares


@dataclass(frozen=True)
class Rate:
    """A group's figures for one question."""

    answers: int
    satisfied: int
    population: int

    @property
    def enough(self) -> bool:
        return self.answers >= MIN_ANSWERS

    @property
    def rate(self) -> float | None:
        return self.satisfied / self.answers if self.answers else None

    @property
    def margin(self) -> float | None:
        """Half the 95 % confidence interval of the rate, with the finite population
        correction: 1.96 × √(p(1−p)/n) × √((N−n)/(N−1))."""
        if not self.answers:
            return None
        return margin_of_error(self.satisfied / self.answers, self.answers, self.population)


def margin_of_error(rate: float, answers: int, population: int, z: float = Z_95) -> float:
    """z × √(p(1−p)/n) × √((N−n)/(N−1)); 0 when everyone answered (N ≤ n)."""
    if answers <= 0:
        raise ValueError("no answers")
    population = max(population, answers)
    if population <= 1 or population == answers:
        return 0.0
    correction = math.sqrt((population - answers) / (population - 1))
    return z * math.sqrt(rate * (1 - rate) / answers) * correction


# --- reading an SMS answer ---------------------------------------------------------------


class Reading(StrEnum):
    VALUE = "value"
    UNCLEAR = "unclear"


@dataclass(frozen=True)
class PollReading:
    kind: Reading
    value: int | None = None


# The labels, folded, longest first: "plutot pas satisfait" before "plutot satisfait".
_LABELS = (
    ("pas du tout satisfait", 4),
    ("plutot pas satisfait", 3),
    ("plutot satisfait", 2),
    ("tres satisfait", 1),
    ("not at all satisfied", 4),
    ("not very satisfied", 3),
    ("fairly satisfied", 2),
    ("very satisfied", 1),
    ("pas du tout", 4),
    ("plutot pas", 3),
)
_DIGIT = re.compile(r"(?<![\w.,/])([1-4])(?: ?(?:/|sur|out of) ?4)?(?![\w.,/]|\s*/)")
_ANY_NUMBER = re.compile(r"\d+")


def read_poll_answer(text: str) -> PollReading:
    """A tenant's SMS answer to one poll question: a figure 1 to 4 ("2", "2/4", "2 sur 4",
    "2 merci"), or the words of one label ("plutôt satisfait"). Anything else (two figures,
    5, a label and a figure that disagree, a sentence without either) is unclear: a wrong
    answer is worse than none."""
    folded = " ".join(fold(text).split()).strip(" .!?")
    if not folded:
        return PollReading(Reading.UNCLEAR)
    labelled: int | None = None
    rest = folded
    for label, value in _LABELS:
        if label in rest:
            if labelled is not None and labelled != value:
                return PollReading(Reading.UNCLEAR)
            labelled = value
            rest = rest.replace(label, " ")
    numbers = _ANY_NUMBER.findall(rest.replace("/4", " ").replace("sur 4", " "))
    figures = {int(match) for match in _DIGIT.findall(rest)}
    if len(numbers) > 1 or len(figures) > 1 or (numbers and not figures):
        return PollReading(Reading.UNCLEAR)
    figure = next(iter(figures), None)
    if figure is not None and labelled is not None and figure != labelled:
        return PollReading(Reading.UNCLEAR)
    answer = figure if figure is not None else labelled
    if answer is None:
        return PollReading(Reading.UNCLEAR)
    # A figure must be the answer, not a word of a long sentence ("j'ai 3 enfants et …").
    if figure is not None and labelled is None and len(rest.split()) > 4:
        return PollReading(Reading.UNCLEAR)
    return PollReading(Reading.VALUE, answer)
