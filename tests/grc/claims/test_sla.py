"""SLA clocks: business hours on the residence's calendar, calendar hours, and the pause.

Pure ``SlaCalendar`` tests need no database; the API tests freeze time with freezegun and run
on every backend. Paris is UTC+1 in winter and UTC+2 in summer (29/03 → 25/10 in 2026).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from grc.claims.models import Claim, Clock
from grc.claims.sla import SlaCalendar, holiday_subdivision
from grc.config import BusinessHours, ConfigError, Settings
from grc.extensions import db
from tests.factories import claim_payload

PARIS = ZoneInfo("Europe/Paris")
H = timedelta(hours=1)


def paris(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """A Paris wall-clock instant, returned in UTC as the product stores it."""
    return datetime(y, mo, d, h, mi, tzinfo=PARIS).astimezone(UTC)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def cal(department: str | None = "57", hours: BusinessHours | None = None) -> SlaCalendar:
    return SlaCalendar(department, hours or BusinessHours(), PARIS)


def add_business(
    department: str | None,
    start: datetime,
    hours: float,
    business_hours: BusinessHours | None = None,
) -> datetime:
    return cal(department, business_hours).add(start, timedelta(hours=hours), Clock.BUSINESS)


# --- business hours ----------------------------------------------------------------------


def test_nine_hours_from_monday_ten_lands_tuesday_ten():
    due = add_business("57", paris(2026, 1, 12, 10), 9)
    assert due == paris(2026, 1, 13, 10) == utc(2026, 1, 13, 9)
    assert due.tzinfo is UTC


def test_friday_afternoon_runs_over_the_weekend():
    # 16:00 → 17:30 is 1 h 30 on Friday; the other 2 h 30 run from Monday 08:30.
    assert add_business("57", paris(2026, 1, 16, 16), 4) == paris(2026, 1, 19, 11)
    # From 16:30, Friday gives 1 h and Monday the other 3 h.
    assert add_business("57", paris(2026, 1, 16, 16, 30), 4) == paris(2026, 1, 19, 11, 30)


def test_a_deadline_may_land_exactly_at_closing_time():
    assert add_business("57", paris(2026, 1, 12, 8, 30), 9) == paris(2026, 1, 12, 17, 30)


def test_before_opening_the_clock_starts_at_half_past_eight():
    assert add_business("57", paris(2026, 1, 12, 7), 2) == paris(2026, 1, 12, 10, 30)
    assert add_business("57", paris(2026, 1, 12, 0, 1), 9) == paris(2026, 1, 12, 17, 30)


def test_after_closing_the_clock_starts_the_next_business_day():
    assert add_business("57", paris(2026, 1, 12, 19), 2) == paris(2026, 1, 13, 10, 30)
    assert add_business("57", paris(2026, 1, 12, 17, 30), 2) == paris(2026, 1, 13, 10, 30)
    # Friday evening and the weekend give nothing.
    assert add_business("57", paris(2026, 1, 16, 19), 2) == paris(2026, 1, 19, 10, 30)
    assert add_business("57", paris(2026, 1, 17, 11), 2) == paris(2026, 1, 19, 10, 30)


def test_zero_business_time_outside_hours_is_the_next_opening():
    assert add_business("57", paris(2026, 1, 16, 19), 0) == paris(2026, 1, 19, 8, 30)
    assert add_business("57", paris(2026, 1, 14, 11), 0) == paris(2026, 1, 14, 11)


def test_negative_business_duration_is_refused():
    with pytest.raises(ValueError, match="never negative"):
        cal("57").add(paris(2026, 1, 12, 10), -H, Clock.BUSINESS)


def test_start_given_in_another_time_zone_is_read_as_the_same_instant():
    start = datetime(2026, 1, 12, 9, 0, tzinfo=ZoneInfo("America/New_York"))  # 15:00 Paris
    assert add_business("57", start, 3) == paris(2026, 1, 13, 9)


def test_spring_forward_weekend_end_of_march():
    # Friday 27/03/2026 is UTC+1, Monday 30/03/2026 is UTC+2.
    due = add_business("57", paris(2026, 3, 27, 16), 4)
    assert due == utc(2026, 3, 30, 9) == paris(2026, 3, 30, 11)
    assert add_business("57", utc(2026, 3, 27, 15), 9) == utc(2026, 3, 30, 14)
    assert add_business("57", utc(2026, 3, 28, 12), 1) == utc(2026, 3, 30, 7, 30)


def test_fall_back_weekend_end_of_october():
    # Friday 23/10/2026 is UTC+2, Monday 26/10/2026 is UTC+1.
    due = add_business("57", paris(2026, 10, 23, 16), 4)
    assert due == utc(2026, 10, 26, 10) == paris(2026, 10, 26, 11)
    assert add_business("57", utc(2026, 10, 23, 14), 9) == utc(2026, 10, 26, 15)
    assert add_business("57", utc(2026, 10, 25, 1, 30), 1) == utc(2026, 10, 26, 8, 30)


def test_opening_hours_across_the_night_dst_switch_count_real_time():
    round_the_clock = BusinessHours.parse("mon-sun", "00:00-23:59")
    calendar = cal("75", round_the_clock)
    spring, autumn = paris(2026, 3, 29, 0), paris(2026, 10, 25, 0)
    assert calendar.add(spring, 3 * H, Clock.BUSINESS) == utc(2026, 3, 29, 2)
    assert calendar.elapsed(spring, spring + 3 * H, Clock.BUSINESS) == 3 * H
    assert calendar.add(autumn, 3 * H, Clock.BUSINESS) == utc(2026, 10, 25, 1)
    assert calendar.elapsed(autumn, autumn + 3 * H, Clock.BUSINESS) == 3 * H


def test_elapsed_over_the_dst_weekends_counts_only_opening_hours():
    moselle = cal("57")
    assert moselle.elapsed(utc(2026, 3, 27, 15), utc(2026, 3, 30, 9), Clock.BUSINESS) == 4 * H
    assert moselle.elapsed(utc(2026, 10, 23, 14), utc(2026, 10, 26, 10), Clock.BUSINESS) == 4 * H
    # The calendar clock counts real time: 66 h although the wall clock moved 67 h.
    assert moselle.elapsed(utc(2026, 3, 27, 15), utc(2026, 3, 30, 9), Clock.CALENDAR) == 66 * H


# --- public holidays per department ------------------------------------------------------


def test_holiday_subdivisions():
    assert holiday_subdivision("57") == "57"
    assert holiday_subdivision("67") == "6AE"
    assert holiday_subdivision(" 68 ") == "6AE"
    assert holiday_subdivision("974") == "974"
    assert holiday_subdivision("75") is None
    assert holiday_subdivision("54") is None
    assert holiday_subdivision(None) is None
    assert holiday_subdivision("") is None


GOOD_FRIDAY_2026 = date(2026, 4, 3)
ST_STEPHEN_2025 = date(2025, 12, 26)  # a Friday
ST_STEPHEN_2026 = date(2026, 12, 26)  # a Saturday
MON_SAT = BusinessHours.parse("mon-sat", "08:30-17:30")


@pytest.mark.parametrize("department", ["57", "67", "68"])
def test_good_friday_and_st_stephen_rest_in_moselle_and_alsace(department):
    calendar = cal(department)
    assert not calendar.is_business_day(GOOD_FRIDAY_2026)
    assert not calendar.is_business_day(ST_STEPHEN_2025)
    assert not cal(department, MON_SAT).is_business_day(ST_STEPHEN_2026)
    assert calendar.is_business_day(date(2026, 4, 2))
    assert calendar.is_business_day(date(2026, 4, 7))


@pytest.mark.parametrize("department", ["75", "54", None])
def test_good_friday_and_st_stephen_are_worked_elsewhere(department):
    calendar = cal(department)
    assert calendar.is_business_day(GOOD_FRIDAY_2026)
    assert calendar.is_business_day(ST_STEPHEN_2025)
    assert cal(department, MON_SAT).is_business_day(ST_STEPHEN_2026)
    # With the default Monday–Friday hours, 26/12/2026 is a Saturday everywhere.
    assert not calendar.is_business_day(ST_STEPHEN_2026)


@pytest.mark.parametrize("department", ["57", "67", "68", "75", "54", None])
@pytest.mark.parametrize(
    "day",
    [date(2026, 5, 1), date(2026, 7, 14), date(2026, 12, 25), date(2026, 4, 6), date(2026, 1, 1)],
)
def test_national_holidays_rest_everywhere(department, day):
    assert day.weekday() < 5
    assert not cal(department).is_business_day(day)
    assert not cal(department, MON_SAT).is_business_day(day)


def test_a_deadline_over_good_friday_in_moselle_is_one_business_day_later_than_in_paris():
    start = paris(2026, 4, 2, 10)  # Thursday before Good Friday, UTC+2
    # Paris: Friday 03/04 is worked, Monday 06/04 (Easter Monday) is not.
    assert add_business("75", start, 9) == paris(2026, 4, 3, 10) == utc(2026, 4, 3, 8)
    assert add_business("57", start, 9) == paris(2026, 4, 7, 10) == utc(2026, 4, 7, 8)
    assert add_business("75", start, 72) == paris(2026, 4, 15, 10)
    assert add_business("57", start, 72) == paris(2026, 4, 16, 10)
    assert add_business("67", start, 72) == paris(2026, 4, 16, 10)
    assert add_business("54", start, 72) == paris(2026, 4, 15, 10)


def test_a_deadline_over_christmas_in_moselle_vs_paris():
    # 2025: 26/12 is a Friday, a holiday in Moselle only.
    start_2025 = paris(2025, 12, 24, 16, 30)  # Wednesday: 1 h left that day
    assert add_business("75", start_2025, 9) == paris(2025, 12, 26, 16, 30)
    assert add_business("57", start_2025, 9) == paris(2025, 12, 29, 16, 30)
    # 2026: 25/12 is a Friday and 26/12 a Saturday, so Monday–Friday hours do not differ...
    start_2026 = paris(2026, 12, 24, 16, 30)  # Thursday
    assert add_business("75", start_2026, 9) == paris(2026, 12, 28, 16, 30)
    assert add_business("57", start_2026, 9) == paris(2026, 12, 28, 16, 30)
    # ...but when Saturdays are worked, Moselle loses its 26/12.
    assert add_business("75", start_2026, 9, MON_SAT) == paris(2026, 12, 26, 16, 30)
    assert add_business("57", start_2026, 9, MON_SAT) == paris(2026, 12, 28, 16, 30)


# --- calendar clock ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "response", "resolution"),
    [
        # Saturday night in winter.
        (utc(2026, 1, 17, 22, 30), utc(2026, 1, 17, 23, 30), utc(2026, 1, 18, 2, 30)),
        # Saturday night of the spring-forward weekend: 23:30 CET → 04:30 CEST is 4 h.
        (utc(2026, 3, 28, 22, 30), utc(2026, 3, 28, 23, 30), utc(2026, 3, 29, 2, 30)),
        # Christmas night (holiday everywhere) and Good Friday night in Moselle.
        (utc(2026, 12, 24, 23), utc(2026, 12, 25, 0), utc(2026, 12, 25, 3)),
        (utc(2026, 4, 2, 22), utc(2026, 4, 2, 23), utc(2026, 4, 3, 2)),
        # Wednesday 03:00 Paris, long before opening.
        (utc(2026, 1, 14, 2), utc(2026, 1, 14, 3), utc(2026, 1, 14, 6)),
    ],
)
def test_calendar_clock_runs_through_nights_weekends_and_holidays(start, response, resolution):
    moselle = cal("57")
    assert moselle.add(start, H, Clock.CALENDAR) == response
    assert moselle.add(start, 4 * H, Clock.CALENDAR) == resolution
    assert moselle.elapsed(start, resolution, Clock.CALENDAR) == 4 * H


# --- elapsed is the inverse of add ---------------------------------------------------------

STARTS = [
    paris(2026, 1, 12, 10),  # Monday within hours
    paris(2026, 1, 12, 7),  # before opening
    paris(2026, 1, 12, 19),  # after closing
    paris(2026, 1, 16, 17, 29),  # one minute before the weekend
    paris(2026, 1, 17, 12),  # Saturday
    paris(2026, 4, 2, 16, 45),  # Thursday before Good Friday
    paris(2026, 3, 27, 12, 15),  # Friday before spring forward
    paris(2026, 10, 24, 3),  # Saturday before fall back
    paris(2026, 12, 24, 9),  # Christmas Eve
    paris(2026, 7, 13, 17),  # Monday before 14 July
]
DURATIONS = [
    timedelta(0),
    timedelta(minutes=1),
    timedelta(minutes=30),
    H,
    4 * H,
    9 * H,
    18 * H,
    72 * H,
    540 * H,
]


@pytest.mark.parametrize("department", ["57", "75"])
@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize("duration", DURATIONS)
def test_elapsed_is_the_inverse_of_add(department, start, duration):
    calendar = cal(department)
    for clock in Clock:
        end = calendar.add(start, duration, clock)
        assert end >= start
        assert calendar.elapsed(start, end, clock) == duration


def test_elapsed_is_zero_when_end_is_not_after_start():
    moselle = cal("57")
    t = paris(2026, 1, 12, 10)
    for clock in Clock:
        assert moselle.elapsed(t, t, clock) == timedelta(0)
        assert moselle.elapsed(t, t - H, clock) == timedelta(0)


def test_elapsed_over_a_week_with_a_moselle_holiday():
    start, end = paris(2026, 3, 30, 8, 30), paris(2026, 4, 6, 8, 30)
    assert cal("75").elapsed(start, end, Clock.BUSINESS) == 45 * H
    assert cal("57").elapsed(start, end, Clock.BUSINESS) == 36 * H


# --- custom business hours -----------------------------------------------------------------


def test_custom_business_hours_are_honoured():
    mornings = BusinessHours.parse("mon-sat", "09:00-12:00")
    assert mornings.weekdays == frozenset(range(6))
    assert (mornings.start.hour, mornings.start.minute) == (9, 0)
    # Friday 11:00: 1 h on Friday, 3 h on Saturday, the last hour on Monday (Sunday is off).
    assert add_business("57", paris(2026, 1, 16, 11), 5, mornings) == paris(2026, 1, 19, 10)
    # Afternoon: nothing until Saturday 09:00.
    assert add_business("57", paris(2026, 1, 16, 14), 1, mornings) == paris(2026, 1, 17, 10)
    calendar = cal("57", mornings)
    assert calendar.elapsed(paris(2026, 1, 16, 8), paris(2026, 1, 19, 13), Clock.BUSINESS) == 9 * H


def test_custom_business_day_list():
    hours = BusinessHours.parse("mon,wed,fri", "08:00-12:00")
    assert hours.weekdays == frozenset({0, 2, 4})
    # Tuesday is off: Monday 11:00 + 2 h → 1 h Monday, 1 h Wednesday.
    assert add_business("75", paris(2026, 1, 12, 11), 2, hours) == paris(2026, 1, 14, 9)


def test_default_business_hours_parse_to_the_defaults():
    assert BusinessHours.parse("mon-fri", "08:30-17:30") == BusinessHours()
    assert BusinessHours.parse(" MON-FRI ", " 8:30-17:30 ") == BusinessHours()


@pytest.mark.parametrize(
    "hours", ["25:00-26:00", "17:00-08:00", "08:30-08:30", "8h30-17h30", "08:30", "08:60-17:30", ""]
)
def test_business_hours_parse_rejects_bad_hours(hours):
    with pytest.raises(ConfigError, match="GRC_BUSINESS_HOURS"):
        BusinessHours.parse("mon-fri", hours)


@pytest.mark.parametrize("days", ["mon-xyz", "fri-mon", "", "mon-tue-wed", "lundi", "mon,,fri"])
def test_business_hours_parse_rejects_bad_days(days):
    with pytest.raises(ConfigError, match="GRC_BUSINESS_DAYS"):
        BusinessHours.parse(days, "08:30-17:30")


def test_settings_read_business_hours_from_the_environment(tmp_path):
    settings = Settings.from_env(
        {"GRC_BUSINESS_DAYS": "mon-sat", "GRC_BUSINESS_HOURS": "09:00-12:00"},
        environment="testing",
        instance_path=str(tmp_path),
    )
    assert settings.business_hours == BusinessHours.parse("mon-sat", "09:00-12:00")
    with pytest.raises(ConfigError):
        Settings.from_env(
            {"GRC_BUSINESS_HOURS": "25:00-26:00"},
            environment="testing",
            instance_path=str(tmp_path),
        )


# --- through the API -----------------------------------------------------------------------


def _iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() is not None, value
    return parsed


def _post_claim(client, world, **payload):
    response = client.post(
        "/api/v1/claims", json=claim_payload(world, **payload), headers=world.headers("agent")
    )
    assert response.status_code == 201, response.json
    return response.json


def _transition(client, world, claim_id: int, action: str, comment: str | None = None):
    body = {"action": action} | ({"comment": comment} if comment else {})
    response = client.post(
        f"/api/v1/claims/{claim_id}/transitions", json=body, headers=world.headers("metz_tech")
    )
    assert response.status_code == 200, response.json
    return response.json


def test_std_claim_on_a_friday_afternoon_in_moselle(client, world):
    with freeze_time("2026-01-16T14:00:00Z"):  # Friday 15:00 in Metz
        body = _post_claim(client, world, category="PLB-ROBINET")
    assert body["sla_clock"] == "business"
    assert _iso(body["created_at"]) == utc(2026, 1, 16, 14)
    # 9 h: 2 h 30 on Friday, 6 h 30 on Monday → Monday 15:00.
    assert _iso(body["response_due"]) == utc(2026, 1, 19, 14)
    # 72 h = 8 business days → Wednesday 28/01 15:00.
    assert _iso(body["resolution_due"]) == utc(2026, 1, 28, 14)
    stored = db.session.get(Claim, body["id"])
    assert stored.response_due == utc(2026, 1, 19, 14)
    assert stored.resolution_due == utc(2026, 1, 28, 14)


@pytest.mark.parametrize(
    ("frozen", "response", "resolution"),
    [
        ("2026-01-17T22:30:00Z", utc(2026, 1, 17, 23, 30), utc(2026, 1, 18, 2, 30)),
        ("2026-03-28T22:30:00Z", utc(2026, 3, 28, 23, 30), utc(2026, 3, 29, 2, 30)),
    ],
)
def test_emergency_on_a_saturday_night_runs_on_the_calendar_clock(
    client, world, frozen, response, resolution
):
    with freeze_time(frozen):
        body = _post_claim(client, world, category="PLB-FUITE")
    assert body["sla_clock"] == "calendar"
    assert body["priority"] == "urgent"
    assert _iso(body["response_due"]) == response
    assert _iso(body["resolution_due"]) == resolution


def test_good_friday_moves_the_moselle_deadline_one_business_day(client, world):
    with freeze_time("2026-04-02T08:00:00Z"):  # Thursday 10:00 in Paris and Metz
        metz = _post_claim(
            client, world, category="PLB-ROBINET", dwelling_id=world.dwellings["TIL-11"].id
        )
        paris_claim = _post_claim(
            client, world, category="PLB-ROBINET", dwelling_id=world.dwellings["BELL-11"].id
        )
    assert metz["route"]["kind"] == "contractor"
    assert paris_claim["route"]["kind"] == "unit"
    assert paris_claim["route"]["unit"]["code"] == "NANCY-technique"
    assert _iso(metz["response_due"]) == utc(2026, 4, 7, 8)
    assert _iso(paris_claim["response_due"]) == utc(2026, 4, 3, 8)
    assert _iso(metz["resolution_due"]) == utc(2026, 4, 16, 8)
    assert _iso(paris_claim["resolution_due"]) == utc(2026, 4, 15, 8)
    paris_cal = cal("75")
    assert (
        paris_cal.elapsed(
            _iso(paris_claim["resolution_due"]), _iso(metz["resolution_due"]), Clock.BUSINESS
        )
        == 9 * H
    )


def _til_std_claim(client, world, frozen: str) -> dict:
    with freeze_time(frozen):
        body = _post_claim(client, world, category="PLB-ROBINET")
    # TIL plumbing goes to the multiservice contractor, supervised by Metz's technical unit.
    assert body["route"]["kind"] == "contractor"
    assert body["route"]["unit"]["id"] == world.units["METZ-technique"].id
    assert body["status"] == "assigned"
    return body


def test_waiting_tenant_gives_back_the_business_time_of_the_pause(client, world):
    claim = _til_std_claim(client, world, "2026-01-12T08:00:00Z")  # Monday 09:00
    assert _iso(claim["response_due"]) == utc(2026, 1, 13, 8)
    assert _iso(claim["resolution_due"]) == utc(2026, 1, 22, 8)  # Thursday 22/01 09:00

    t1, t2 = utc(2026, 1, 14, 10), utc(2026, 1, 19, 13)  # Wed 11:00 → Mon 14:00
    with freeze_time(t1):
        paused = _transition(client, world, claim["id"], "wait_tenant", "Photo demandée.")
    assert paused["status"] == "waiting_tenant"
    assert _iso(paused["resolution_due"]) == utc(2026, 1, 22, 8)
    assert _iso(paused["responded_at"]) == t1

    with freeze_time(t2):
        resumed = _transition(client, world, claim["id"], "resume")
    assert resumed["status"] == "assigned"
    paused_for = cal("57").elapsed(t1, t2, Clock.BUSINESS)
    assert paused_for == 30 * H  # 6 h 30 + 9 h + 9 h + 5 h 30
    new_due = _iso(resumed["resolution_due"])
    assert new_due == utc(2026, 1, 27, 11)  # Tuesday 27/01 12:00
    assert cal("57").elapsed(utc(2026, 1, 22, 8), new_due, Clock.BUSINESS) == paused_for
    # The response deadline stays: asking the tenant was the response.
    assert _iso(resumed["response_due"]) == utc(2026, 1, 13, 8)
    last = resumed["events"][-1]
    assert last["action"] == "resume"
    assert last["changes"]["resolution_due"] == [
        utc(2026, 1, 22, 8).isoformat(),
        new_due.isoformat(),
    ]

    stored = db.session.get(Claim, claim["id"])
    assert stored.resolution_due == utc(2026, 1, 27, 11)
    assert stored.paused_at is None
    assert stored.status_before_pause is None


def test_a_pause_outside_business_hours_changes_nothing(client, world):
    claim = _til_std_claim(client, world, "2026-01-12T08:00:00Z")
    with freeze_time("2026-01-16T17:00:00Z"):  # Friday 18:00
        _transition(client, world, claim["id"], "start")
        _transition(client, world, claim["id"], "wait_tenant", "Rappel lundi.")
    with freeze_time("2026-01-19T07:00:00Z"):  # Monday 08:00
        resumed = _transition(client, world, claim["id"], "resume")
    assert resumed["status"] == "in_progress"
    assert _iso(resumed["resolution_due"]) == utc(2026, 1, 22, 8)


def test_a_pause_over_easter_in_moselle_only_counts_opening_hours(client, world):
    claim = _til_std_claim(client, world, "2026-03-30T07:00:00Z")  # Monday 09:00 (UTC+2)
    # 72 h (8 business days) from Monday 30/03 09:00, skipping Good Friday and Easter Monday.
    assert _iso(claim["resolution_due"]) == paris(2026, 4, 13, 9)
    with freeze_time(paris(2026, 4, 2, 17)):  # Thursday 17:00
        _transition(client, world, claim["id"], "wait_tenant", "Absent.")
    with freeze_time(paris(2026, 4, 7, 9)):  # Tuesday 09:00
        resumed = _transition(client, world, claim["id"], "resume")
    # Only 30 min on Thursday and 30 min on Tuesday were business time.
    assert _iso(resumed["resolution_due"]) == paris(2026, 4, 13, 10)


def test_emergency_pause_gives_back_calendar_time(client, world):
    with freeze_time("2026-01-17T22:30:00Z"):
        claim = _post_claim(client, world, category="PLB-FUITE")
    with freeze_time("2026-01-17T23:00:00Z"):
        _transition(client, world, claim["id"], "wait_tenant", "Accès impossible.")
    with freeze_time("2026-01-18T09:00:00Z"):
        resumed = _transition(client, world, claim["id"], "resume")
    # 3 h 30 were left at 23:00 → 12:30 UTC.
    assert _iso(resumed["resolution_due"]) == utc(2026, 1, 18, 12, 30)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Claim))
    assert count == 1
