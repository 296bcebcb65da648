"""Business time by running totals gives what the SLA calendar gives, day by day."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from grc.claims.business_time import RunningBusinessTime
from grc.claims.models import Clock
from grc.claims.sla import SlaCalendar
from grc.config import BusinessHours


def test_the_same_as_the_sla_calendar_across_holidays_and_time_changes():
    calendar = SlaCalendar("57", BusinessHours(), ZoneInfo("Europe/Paris"))
    running = RunningBusinessTime(calendar)
    randomly = random.Random(16)
    base = datetime(2025, 12, 20, tzinfo=UTC)  # Christmas, Saint-Étienne (Moselle), March
    for _ in range(2000):
        start = base + timedelta(minutes=randomly.randint(0, 60 * 24 * 120))
        end = start + timedelta(minutes=randomly.randint(-60, 60 * 24 * 20))
        for clock in (Clock.BUSINESS, Clock.CALENDAR):
            assert running.elapsed(start, end, clock) == calendar.elapsed(start, end, clock)


def test_an_earlier_day_after_a_later_one():
    calendar = SlaCalendar(None, BusinessHours(), ZoneInfo("Europe/Paris"))
    running = RunningBusinessTime(calendar)
    late = datetime(2026, 3, 12, 12, tzinfo=UTC)
    early = datetime(2026, 3, 2, 12, tzinfo=UTC)
    assert running.elapsed(late, late + timedelta(days=1), Clock.BUSINESS) == timedelta(hours=9)
    assert running.elapsed(early, late, Clock.BUSINESS) == timedelta(hours=72)
