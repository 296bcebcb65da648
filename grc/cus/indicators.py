"""The CUS indicators of a year, per agency and for the whole landlord: one use case, read
only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from grc.cus import cleanliness as polls
from grc.cus.breakdowns import Breakdown, BreakdownCount, count_by_group, episodes, extend, total
from grc.cus.cleanliness import Cleanliness, CleanlinessSource
from grc.cus.queries import (
    AgencyRow,
    ResponseCount,
    agencies,
    later_lift_claims,
    lift_agencies,
    lift_claims,
    response_counts,
)

# The first year the indicators may be asked for (the last is the current one).
FIRST_YEAR = 2000


@dataclass(frozen=True)
class Figures:
    """One agency's (or the landlord's) indicators for the year."""

    breakdowns: BreakdownCount
    cleanliness: Cleanliness | None
    response: ResponseCount


@dataclass(frozen=True)
class AgencyFigures:
    agency: AgencyRow
    figures: Figures


@dataclass(frozen=True)
class CusReport:
    year: int
    start: datetime
    end: datetime
    computed_at: datetime
    # Whether the year is over when computed: an open year's figures still move.
    complete: bool
    agencies: list[AgencyFigures]
    landlord: Figures

    def agency(self, code: str) -> AgencyFigures | None:
        return next((row for row in self.agencies if row.agency.code == code), None)


def year_bounds(year: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """1 January 00:00 to the next 1 January 00:00, in the landlord's time zone."""
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


def year_breakdowns(session: Session, start: datetime, end: datetime) -> Iterator[Breakdown]:
    """The breakdowns started in [start, end), whole: one still running at the year's end
    takes in the next year's claims that come before it ends (read lift by lift, only for
    those few)."""
    for breakdown in episodes(lift_claims(session, start, end)):
        if not start <= breakdown.started_at < end:
            continue
        after = end
        while breakdown.ended_at is not None and breakdown.ended_at > after:
            before = breakdown.ended_at
            later = later_lift_claims(session, breakdown.lift_id, after, before)
            breakdown = extend(breakdown, later)
            after = before
        yield breakdown


def cus_indicators(
    session: Session,
    year: int,
    tz: ZoneInfo,
    now: datetime,
    source: CleanlinessSource | None = None,
) -> CusReport:
    """Every agency's indicators for ``year`` and the landlord's, which are the sums of the
    agencies' counts (the per-lift and on-time figures of the sums)."""
    start, end = year_bounds(year, tz)
    source = source or polls.poll_cleanliness
    rows = agencies(session)
    lift_agency = lift_agencies(session)
    lifts_by_agency = {row.id: 0 for row in rows}
    for agency_id in lift_agency.values():
        lifts_by_agency[agency_id] = lifts_by_agency.get(agency_id, 0) + 1
    breakdowns = count_by_group(
        year_breakdowns(session, start, end), lift_agency, lifts_by_agency, start, end, now
    )
    responses = response_counts(session, start, end, now)
    nothing = ResponseCount(0, 0, 0)
    per_agency = [
        AgencyFigures(
            row,
            Figures(
                breakdowns=breakdowns[row.id],
                cleanliness=source(session, year, row.id),
                response=responses.get(row.id, nothing),
            ),
        )
        for row in rows
    ]
    landlord = Figures(
        breakdowns=total(row.figures.breakdowns for row in per_agency),
        cleanliness=source(session, year, None),
        response=sum((row.figures.response for row in per_agency), nothing),
    )
    return CusReport(
        year=year,
        start=start,
        end=end,
        computed_at=now,
        complete=now >= end,
        agencies=per_agency,
        landlord=landlord,
    )
