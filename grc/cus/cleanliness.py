"""The tenants' satisfaction with the cleanliness of common areas, from the landlord's
quality-of-service polls (*enquêtes de qualité de service*), as the CUS reports it: a
rate with its margin of error, the number of answers, and the poll it comes from.

This package does not compute it: the polls do. ``poll_cleanliness`` is the one place
that asks them; until the polls are part of the application it answers that no poll
measured the year, and the indicator says so ("no poll this year") rather than showing
a figure nobody measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy.orm import Session


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
    """The quality-of-service polls' answer (the one function to plug them in: call the
    polls' function here and convert its result to ``Cleanliness``). No poll yet."""
    return None
