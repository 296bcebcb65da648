"""The tenants' satisfaction with the cleanliness of common areas, from the landlord's
quality-of-service polls (*enquêtes de qualité de service*), as the CUS reports it: a
rate with its margin of error, the number of answers, and the poll it comes from.

This package does not compute it: the polls do (``grc.polls.results``). ``poll_cleanliness``
is the one place that asks them. A year no poll measured, or a group with too few answers
for a rate, has no figure, and the indicator says so rather than showing a figure nobody
measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from sqlalchemy.orm import Session

from grc.clock import settings
from grc.polls.models import Theme
from grc.polls.results import latest_theme_result


@dataclass(frozen=True)
class Cleanliness:
    """One poll's answer for an agency (or the whole landlord) and a year."""

    rate: float  # share of satisfied tenants, 0 to 1
    margin: float  # margin of error at 95 % confidence, in the same unit (0.031: ±3.1 pts)
    answers: int
    poll_title: str
    poll_date: date  # when the poll closed (or was held)


class CleanlinessSource(Protocol):
    """Where the figure comes from: the poll of ``year`` for the agency (``agency_id``;
    None for the whole landlord), or None when no poll measured it."""

    def __call__(
        self, session: Session, year: int, agency_id: int | None
    ) -> Cleanliness | None: ...


def poll_cleanliness(session: Session, year: int, agency_id: int | None) -> Cleanliness | None:
    """The cleanliness question of the last poll launched in ``year`` (in the landlord's
    time zone): its figures for the agency, or the whole landlord."""
    tz = settings().tz
    launched = (datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz))
    result = latest_theme_result(session, Theme.CLEANLINESS, launched_between=launched)
    if result is None:
        return None
    level, group_id = ("landlord", None) if agency_id is None else ("agency", agency_id)
    group = next((g for g in result.groups if g.level == level and g.group_id == group_id), None)
    if group is None or not group.figures.enough:
        return None
    rate, margin = group.figures.rate, group.figures.margin
    if rate is None or margin is None:
        return None
    poll = result.question.poll
    return Cleanliness(
        rate=rate,
        margin=margin,
        answers=group.figures.answers,
        poll_title=poll.title,
        poll_date=poll.closes_at.astimezone(tz).date(),
    )
