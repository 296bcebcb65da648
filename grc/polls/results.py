"""A poll's results: per question, for the whole landlord and per agency, residence and
building, the answer count, the satisfaction rate (share of "très" and "plutôt satisfait"),
its 95 % margin of error with the finite population correction, and the change in points
since the previous poll that asked a question of the same theme.

``question_results`` is the one computation: the pages, the API and other packages (the
regulatory CUS sheet reads the cleanliness figure) call it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grc.housing.models import Agency, Building, Residence
from grc.polls.figures import SATISFIED, Rate
from grc.polls.models import Poll, PollAnswer, PollQuestion, PollRecipient, Theme

LEVELS = ("landlord", "agency", "residence", "building")


@dataclass(frozen=True)
class GroupResult:
    level: str  # landlord, agency, residence, building
    group_id: int | None  # None for the landlord
    name: str
    figures: Rate
    previous_rate: float | None = None

    @property
    def change_points(self) -> float | None:
        """The change in percentage points since the previous poll of the theme (both with
        enough answers)."""
        rate = self.figures.rate if self.figures.enough else None
        if rate is None or self.previous_rate is None:
            return None
        return round((rate - self.previous_rate) * 100, 1)


@dataclass(frozen=True)
class QuestionResult:
    question: PollQuestion
    previous_poll: Poll | None
    groups: list[GroupResult] = field(default_factory=list)

    def of(self, level: str) -> list[GroupResult]:
        return [g for g in self.groups if g.level == level]

    @property
    def landlord(self) -> GroupResult:
        return self.groups[0]


def _counts(session: Session, question_id: int) -> dict[tuple[str, int | None], tuple[int, int]]:
    """(level, group) → (answers, satisfied) for one question."""
    satisfied = sa.case((PollAnswer.value.in_(sorted(SATISFIED)), 1), else_=0)
    rows = session.execute(
        sa.select(
            PollRecipient.agency_id,
            PollRecipient.residence_id,
            PollRecipient.building_id,
            sa.func.count(),
            sa.func.sum(satisfied),
        )
        .join(PollRecipient, PollRecipient.id == PollAnswer.recipient_id)
        .where(PollAnswer.question_id == question_id)
        .group_by(PollRecipient.agency_id, PollRecipient.residence_id, PollRecipient.building_id)
    ).all()
    totals: dict[tuple[str, int | None], list[int]] = defaultdict(lambda: [0, 0])
    for agency, residence, building, count, happy in rows:
        for key in (
            ("landlord", None),
            ("agency", agency),
            ("residence", residence),
            ("building", building),
        ):
            totals[key][0] += int(count)
            totals[key][1] += int(happy or 0)
    return {key: (n, s) for key, (n, s) in totals.items()}


def _population(poll: Poll, level: str, group_id: int | None, answers: int) -> int:
    key = "all" if level == "landlord" else f"{level}:{group_id}"
    return max(int((poll.populations or {}).get(key, 0)), answers)


def previous_question(session: Session, question: PollQuestion) -> PollQuestion | None:
    """The same theme's question in the latest poll launched before this one."""
    if question.theme == Theme.OTHER:
        return None
    poll = question.poll
    return session.execute(
        sa.select(PollQuestion)
        .join(Poll, Poll.id == PollQuestion.poll_id)
        .where(
            PollQuestion.theme == question.theme,
            Poll.launched_at < poll.launched_at,
            Poll.id != poll.id,
        )
        .order_by(Poll.launched_at.desc(), PollQuestion.position)
        .limit(1)
    ).scalar_one_or_none()


def question_results(session: Session, question: PollQuestion) -> QuestionResult:
    """The figures of one question for every group (landlord first, then agencies,
    residences and buildings by name), each with the previous poll's rate of the theme."""
    poll = question.poll
    counts = _counts(session, question.id)
    before = previous_question(session, question)
    previous: dict[tuple[str, int | None], float] = {}
    if before is not None:
        for key, (n, s) in _counts(session, before.id).items():
            rate = Rate(n, s, n)
            if rate.enough and rate.rate is not None:
                previous[key] = rate.rate
    names = _names(session, counts)
    counts.setdefault(("landlord", None), (0, 0))
    groups = [
        GroupResult(
            level,
            group_id,
            names.get((level, group_id), ""),
            Rate(n, s, _population(poll, level, group_id, n)),
            previous.get((level, group_id)),
        )
        for (level, group_id), (n, s) in counts.items()
    ]
    groups.sort(key=lambda g: (LEVELS.index(g.level), g.name, g.group_id or 0))
    return QuestionResult(question, before.poll if before is not None else None, groups)


def poll_results(session: Session, poll: Poll) -> list[QuestionResult]:
    return [question_results(session, question) for question in poll.questions]


def latest_theme_result(
    session: Session, theme: Theme, launched_between: tuple[datetime, datetime] | None = None
) -> QuestionResult | None:
    """The latest poll's figures for a theme, of the polls launched in ``launched_between``
    (from, to: UTC) when given (the CUS sheet's cleanliness of common areas of a year)."""
    stmt = (
        sa.select(PollQuestion)
        .join(Poll, Poll.id == PollQuestion.poll_id)
        .where(PollQuestion.theme == theme)
        .order_by(Poll.launched_at.desc(), PollQuestion.position)
        .limit(1)
    )
    if launched_between is not None:
        start, end = launched_between
        stmt = stmt.where(Poll.launched_at >= start, Poll.launched_at < end)
    question = session.execute(stmt).scalar_one_or_none()
    return question_results(session, question) if question is not None else None


def _names(
    session: Session, counts: dict[tuple[str, int | None], tuple[int, int]]
) -> dict[tuple[str, int | None], str]:
    wanted: dict[str, set[int]] = defaultdict(set)
    for level, group_id in counts:
        if group_id is not None:
            wanted[level].add(group_id)
    names: dict[tuple[str, int | None], str] = {}
    if wanted["agency"]:
        for id_, name in session.execute(
            sa.select(Agency.id, Agency.name).where(Agency.id.in_(sorted(wanted["agency"])))
        ):
            names[("agency", id_)] = name
    if wanted["residence"]:
        for id_, name in session.execute(
            sa.select(Residence.id, Residence.name).where(
                Residence.id.in_(sorted(wanted["residence"]))
            )
        ):
            names[("residence", id_)] = name
    if wanted["building"]:
        for id_, code, street in session.execute(
            sa.select(Building.id, Building.code, Building.street).where(
                Building.id.in_(sorted(wanted["building"]))
            )
        ):
            names[("building", id_)] = f"{street} ({code})"
    return names


def as_dict(result: QuestionResult) -> dict[str, object]:
    """The JSON of one question's results (the API)."""
    question = result.question
    return {
        "position": question.position,
        "theme": str(question.theme),
        "text_fr": question.text_fr,
        "text_en": question.text_en,
        "previous_poll_id": result.previous_poll.id if result.previous_poll else None,
        "groups": [
            {
                "level": g.level,
                "id": g.group_id,
                "name": g.name,
                "answers": g.figures.answers,
                "population": g.figures.population,
                "enough_answers": g.figures.enough,
                "satisfaction_rate": _round(g.figures.rate) if g.figures.enough else None,
                "margin_of_error": _round(g.figures.margin) if g.figures.enough else None,
                "previous_rate": _round(g.previous_rate),
                "change_points": g.change_points,
            }
            for g in result.groups
        ],
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
