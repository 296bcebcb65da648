"""Every report over the week of ``dataset``, against figures computed by hand."""

from __future__ import annotations

from datetime import date

import pytest

from grc.extensions import db
from grc.reports import reports
from grc.reports.filters import ReportArgsSchema, resolve
from tests.grc.reports.dataset import NOW, build


@pytest.fixture
def data(world):
    return build(world)


def _filters(**args):
    loaded = ReportArgsSchema().load({"from": "2026-03-09", "to": "2026-03-15", **args})
    return resolve(db.session, loaded)


def test_volumes_count_claims_and_further_calls_apart(data):
    table = reports.volumes(db.session, _filters(bucket="day"))
    assert table.columns == ("bucket", "code", "label", "claims", "further_contacts", "contacts")
    assert [row[:2] + row[3:] for row in table.rows] == [
        ("2026-03-09", "phone", 1, 1, 2),  # C1, and a further call on it
        ("2026-03-09", "web", 1, 0, 1),  # C2
        ("2026-03-10", "phone", 2, 0, 2),  # C3, C7 (cancelled later, still received)
        ("2026-03-12", "phone", 1, 1, 2),  # C4 and a further call on it
        ("2026-03-13", "phone", 1, 1, 2),  # C8; C4's second further call
        ("2026-03-15", "email", 1, 0, 1),  # C5, Sunday 21:00 in Paris
    ]
    assert table.total[3:] == (7, 3, 10)


def test_volumes_per_week_and_unit(data):
    table = reports.volumes(db.session, _filters(by="unit"))
    assert [row[:2] + row[3:] for row in table.rows] == [
        ("2026-03-09", "ASTREINTE", 1, 0, 1),
        ("2026-03-09", "METZ-technique", 5, 3, 8),
        ("2026-03-09", "NANCY-technique", 1, 0, 1),
    ]


def test_sla_per_unit(data):
    table = reports.sla(db.session, _filters(), NOW)
    by_unit = {row[0]: row[2:] for row in table.rows}
    assert by_unit == {
        # C3: responded and resolved during the call.
        "ASTREINTE": (1, 1, 1, 1.0, 0.0, 0.0, 1, 1, 1.0, 0.0, 0.0),
        # C1 3 h, C2 1 h, C8 1 h on time, C4 late; C1 9 h and C2 8.5 h (pause out) resolved.
        "METZ-technique": (4, 4, 3, 0.75, 1.0, 3.0, 2, 2, 1.0, 8.5, 9.0),
        # C5: both deadlines passed without an answer.
        "NANCY-technique": (1, 1, 0, 0.0, None, None, 1, 0, 0.0, None, None),
    }
    assert table.total[2:] == (6, 6, 4, 0.6667, 1.0, 3.0, 4, 3, 0.75, 8.5, 9.0)


def test_backlog_by_age_and_overdue_list(data):
    table = reports.backlog(db.session, _filters(), NOW)
    assert {row[0]: row[2:] for row in table.rows} == {
        # C4 (4 days), C8 (3 days, paused), C6 (43 days, overdue)
        "METZ-technique": (0, 2, 0, 1, 3, 1),
        "NANCY-technique": (1, 0, 0, 0, 1, 1),  # C5, 16 hours old, overdue
    }
    assert table.total[2:] == (1, 2, 0, 1, 4, 2)
    late = reports.overdue(db.session, _filters(), NOW)
    assert [(r[0], r[1], r[3], r[5], r[6]) for r in late.rows] == [
        (
            data.claims["C6"].reference,
            "PLB-ROBINET",
            "METZ-technique",
            "2026-02-11T16:30:00+00:00",
            787.5,
        ),
        (
            data.claims["C5"].reference,
            "PLB-FUITE",
            "NANCY-technique",
            "2026-03-16T00:00:00+00:00",
            12.0,
        ),
    ]
    assert late.total[-1] == 2


def test_calls_per_day_and_agent(data, world):
    table = reports.calls(db.session, _filters(bucket="day"))
    assert table.rows == [
        ("2026-03-09", 2, 1, 1, 0.5, 300.0),
        ("2026-03-10", 1, 1, 0, 1.0, 180.0),
        ("2026-03-12", 2, 2, 0, 1.0, 180.0),
    ]
    assert table.total == ("", 5, 4, 1, 0.8, 210.0)
    agents = reports.calls_by_agent(db.session, _filters())
    assert [row[1:] for row in agents.rows] == [
        ("Agent", 2, 2, 0, 1.0, 210.0),
        ("Agent2", 2, 2, 0, 1.0, 210.0),
        ("—", 1, 0, 1, 0.0, None),
    ]


def test_first_contact_resolution(data):
    table = reports.first_contact(db.session, _filters())
    assert [row[1:] for row in table.rows] == [
        ("Fuite d'eau active", 1, 0, 0.0),
        ("Odeur de gaz", 1, 1, 1.0),
        ("Robinet ou joint qui goutte", 5, 0, 0.0),
    ]
    assert table.total[2:] == (7, 1, 0.1429)
    per_agent = reports.first_contact(db.session, _filters(by="agent"))
    assert [row[1:] for row in per_agent.rows] == [("Agent", 6, 1, 0.1667), ("Agent2", 1, 0, 0.0)]


def test_satisfaction_and_ratings(data):
    table = reports.satisfaction(db.session, _filters())
    assert [row[1:] for row in table.rows] == [
        ("Multiservices Lorraine", 3, 2, 4.0, 0.5, 1),  # 5 and 3, and a "not done"
        ("—", 1, 1, 4.0, 1.0, 0),  # C3, handled by a unit
    ]
    assert table.total[2:] == (4, 3, 4.0, 0.6667, 1)
    per_agency = reports.satisfaction(db.session, _filters(by="agency"))
    assert [row[0] for row in per_agency.rows] == ["METZ"]
    trend = reports.ratings_trend(db.session, _filters())
    assert trend.columns[2:] == (
        "score_2025-Q2",
        "grade_2025-Q2",
        "score_2025-Q3",
        "grade_2025-Q3",
        "score_2025-Q4",
        "grade_2025-Q4",
        "score_2026-Q1",
        "grade_2026-Q1",
    )
    assert trend.rows == [
        ("MULTI", "Multiservices Lorraine", None, None, None, None, 72.5, "B", 86.0, "A")
    ]


@pytest.mark.parametrize("by", ["channel", "category", "domain", "unit", "agency"])
def test_every_breakdown_adds_up_to_the_total(data, by):
    """Reconciliation: whatever the rows are per, they sum to the same totals."""
    volumes = reports.volumes(db.session, _filters(by=by, bucket="day"))
    assert sum(r[3] for r in volumes.rows) == 7
    assert sum(r[4] for r in volumes.rows) == 3
    sla = reports.sla(db.session, _filters(by=by), NOW)
    for i in (2, 3, 4, 8, 9):
        assert sum(r[i] for r in sla.rows) == sla.total[i]
    backlog = reports.backlog(db.session, _filters(by=by), NOW)
    for i in range(2, 8):
        assert sum(r[i] for r in backlog.rows) == backlog.total[i]


def test_claims_without_a_contractor_are_a_group_of_their_own_not_the_total(data):
    """Per contractor, the claims no contractor handles have no key, as the database's
    whole-selection row has none: each stays in its place."""
    sla = reports.sla(db.session, _filters(by="contractor"), NOW)
    assert [row[:2] for row in sla.rows] == [("", "—")]
    assert sla.rows[0][2:] == sla.total[2:]
    assert sla.total[2] == 6


def test_filters_narrow_every_report(data):
    nancy = _filters(agency="NANCY")
    assert reports.volumes(db.session, nancy).total[3:] == (1, 0, 1)
    assert reports.backlog(db.session, nancy, NOW).total[2:] == (1, 0, 0, 0, 1, 1)
    plumbing = _filters(category="PLB")  # the domain: every plumbing motive
    assert reports.first_contact(db.session, plumbing).total[2:] == (6, 0, 0.0)
    web = _filters(channel="web")
    assert reports.volumes(db.session, web).total[3:] == (1, 0, 1)
    assert reports.volumes(db.session, _filters(channel="phone")).total[3:] == (5, 3, 8)


def test_percentile_is_the_nearest_rank():
    assert reports.percentile([4, 1, 3, 2], 0.5) == 2
    assert reports.percentile([4, 1, 3, 2], 0.9) == 4
    assert reports.percentile([], 0.5) is None


def test_buckets_cover_the_period(app_ctx):
    f = resolve(db.session, ReportArgsSchema().load({"from": "2026-03-30", "to": "2026-04-14"}))
    assert reports.buckets(f) == [date(2026, 3, 30), date(2026, 4, 6), date(2026, 4, 13)]
