"""SLA clocks: deadlines in business hours on a residence's calendar, or in calendar hours.

Business time follows the configured opening hours (default Monday–Friday 08:30–17:30,
Europe/Paris) and skips the French public holidays of the residence's department: Moselle
(57) and Alsace (67, 68) also rest on Good Friday and 26 December.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays

from grc.claims.models import Clock
from grc.clock import settings
from grc.config import BusinessHours

if TYPE_CHECKING:
    from grc.housing.models import Residence

# The holidays library groups Bas-Rhin and Haut-Rhin as "6AE" (Alsace).
_SUBDIVISION_BY_DEPARTMENT = {"57": "57", "67": "6AE", "68": "6AE"}
_OVERSEAS = ("971", "972", "973", "974", "976")
_MAX_DAYS_SCANNED = 3660


def holiday_subdivision(department_code: str | None) -> str | None:
    if not department_code:
        return None
    code = department_code.strip().upper()
    if code in _OVERSEAS:
        return code
    return _SUBDIVISION_BY_DEPARTMENT.get(code)


@lru_cache(maxsize=64)
def _holidays_for(subdivision: str | None) -> holidays.HolidayBase:
    # Years are filled in lazily by the library as dates are looked up.
    return holidays.France(subdiv=subdivision)


class SlaCalendar:
    """Adds and measures SLA time for one residence calendar."""

    def __init__(self, department_code: str | None, hours: BusinessHours, tz: ZoneInfo) -> None:
        self.hours = hours
        self.tz = tz
        self._holidays = _holidays_for(holiday_subdivision(department_code))

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.hours.weekdays and day not in self._holidays

    def _opening(self, day: date) -> tuple[datetime, datetime]:
        # Local wall-clock opening hours as UTC instants: arithmetic between datetimes that
        # share a ZoneInfo is wall-clock arithmetic and would miscount a DST night.
        return (
            datetime.combine(day, self.hours.start, self.tz).astimezone(UTC),
            datetime.combine(day, self.hours.end, self.tz).astimezone(UTC),
        )

    def is_open(self, moment: datetime) -> bool:
        """Whether ``moment`` falls within business hours on this calendar."""
        day = moment.astimezone(self.tz).date()
        if not self.is_business_day(day):
            return False
        opens, closes = self._opening(day)
        return opens <= moment < closes

    def add(self, start: datetime, duration: timedelta, clock: Clock) -> datetime:
        """The instant when ``duration`` of SLA time has run from ``start`` (both UTC-aware)."""
        if clock == Clock.CALENDAR:
            return (start + duration).astimezone(UTC)
        if duration < timedelta(0):
            raise ValueError("SLA durations are never negative")
        remaining = duration
        start = start.astimezone(UTC)
        day = start.astimezone(self.tz).date()
        for _ in range(_MAX_DAYS_SCANNED):
            if self.is_business_day(day):
                opens, closes = self._opening(day)
                begin = max(start, opens)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
            day += timedelta(days=1)
        raise ValueError("no business day found within ten years; check the business hours")

    def elapsed(self, start: datetime, end: datetime, clock: Clock) -> timedelta:
        """SLA time that runs between two instants (zero when ``end`` is not after ``start``)."""
        if end <= start:
            return timedelta(0)
        if clock == Clock.CALENDAR:
            return end - start
        total = timedelta(0)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        day, last_day = start.astimezone(self.tz).date(), end.astimezone(self.tz).date()
        while day <= last_day:
            if self.is_business_day(day):
                opens, closes = self._opening(day)
                begin, finish = max(start, opens), min(end, closes)
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return total


def sla_calendar(residence: Residence) -> SlaCalendar:
    """The calendar of ``residence``'s claims."""
    return department_calendar(residence.department_code)


def department_calendar(department_code: str | None) -> SlaCalendar:
    """The calendar of the claims in a department: its holidays, the configured business
    hours and time zone."""
    config = settings()
    return SlaCalendar(department_code, config.business_hours, config.tz)
