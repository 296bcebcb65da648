"""Breakdowns as episodes, hand-computed, without the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from grc.cus.breakdowns import Breakdown, LiftClaim, count_by_group, episodes, extend, total

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def at(day: str, hour: int, minute: int = 0) -> datetime:
    year, month, dom = (int(part) for part in day.split("-"))
    return datetime(year, month, dom, hour, minute, tzinfo=UTC)


def test_one_claim_is_one_breakdown():
    (only,) = episodes([LiftClaim(1, 10, at("2026-03-02", 8), at("2026-03-02", 13))])
    assert only == Breakdown(1, at("2026-03-02", 8), at("2026-03-02", 13), (10,), 1)
    assert only.duration(NOW) == timedelta(hours=5)
    assert only.is_long(NOW)


def test_exactly_four_hours_is_not_more_than_four():
    (only,) = episodes([LiftClaim(1, 10, at("2026-03-02", 8), at("2026-03-02", 12))])
    assert not only.is_long(NOW)


def test_attached_calls_and_duplicates_count_once_and_the_last_resolution_ends_it():
    claims = [
        # 08:00 first claim, two further calls attached; resolved 11:00.
        LiftClaim(1, 10, at("2026-03-02", 8), at("2026-03-02", 11), attached_calls=2),
        # 09:30 a duplicate registered anyway, resolved 13:15: the breakdown lasts 5 h 15.
        LiftClaim(1, 11, at("2026-03-02", 9, 30), at("2026-03-02", 13, 15)),
        # 13:15 exactly when it ended: a new breakdown (1 h).
        LiftClaim(1, 12, at("2026-03-02", 13, 15), at("2026-03-02", 14, 15)),
    ]
    first, second = episodes(claims)
    assert first.claim_ids == (10, 11)
    assert first.calls == 4
    assert first.ended_at == at("2026-03-02", 13, 15)
    assert first.duration(NOW) == timedelta(hours=5, minutes=15)
    assert second.claim_ids == (12,)
    assert not second.is_long(NOW)


def test_a_claim_resolved_before_an_earlier_one_does_not_shorten_the_breakdown():
    claims = [
        LiftClaim(1, 10, at("2026-03-02", 8), at("2026-03-02", 18)),
        LiftClaim(1, 11, at("2026-03-02", 9), at("2026-03-02", 10)),
        LiftClaim(1, 12, at("2026-03-02", 17), at("2026-03-02", 17, 30)),
    ]
    (only,) = episodes(claims)
    assert only.claim_ids == (10, 11, 12)
    assert only.ended_at == at("2026-03-02", 18)


def test_an_unresolved_claim_keeps_the_breakdown_open_until_now():
    claims = [
        LiftClaim(1, 10, at("2026-12-06", 6), at("2026-12-06", 7)),
        LiftClaim(1, 11, at("2026-12-06", 6, 30), None),
        LiftClaim(1, 12, at("2026-12-06", 9), at("2026-12-06", 9, 30)),
    ]
    (only,) = episodes(claims)
    assert only.ended_at is None
    assert only.claim_ids == (10, 11, 12)
    assert only.duration(NOW) == timedelta(hours=6)
    assert only.is_long(NOW)
    assert not only.is_long(at("2026-12-06", 9, 59))


def test_each_lift_has_its_own_breakdowns():
    claims = [
        LiftClaim(1, 10, at("2026-03-02", 8), at("2026-03-02", 20)),
        LiftClaim(2, 11, at("2026-03-02", 9), at("2026-03-02", 10)),
    ]
    assert [b.lift_id for b in episodes(claims)] == [1, 2]


def test_claims_out_of_order_are_refused():
    claims = [
        LiftClaim(1, 10, at("2026-03-02", 9), None),
        LiftClaim(1, 11, at("2026-03-02", 8), None),
    ]
    with pytest.raises(ValueError, match="ordered"):
        list(episodes(claims))


def test_a_breakdown_counts_whole_in_the_year_it_started():
    year_2026 = (at("2026-01-01", 0), at("2027-01-01", 0))
    claims = [
        # 31 December 22:00 to 1 January 01:00: 3 h, counted in 2026 and under 4 h.
        LiftClaim(1, 10, at("2026-12-31", 22), at("2027-01-01", 1)),
        # 30 December 2025 to 2 January 2026: started in 2025, not in 2026.
        LiftClaim(1, 9, at("2025-12-30", 9), at("2026-01-02", 9)),
        # 31 December 2026 20:00 to 2 January 2027: 2026, 61 hours, long.
        LiftClaim(2, 11, at("2026-12-31", 20), at("2027-01-02", 9)),
        # A claim on lift 2 on 1 January 2027 belongs to that breakdown (no new one).
        LiftClaim(2, 12, at("2027-01-01", 10), at("2027-01-01", 11)),
        LiftClaim(3, 13, at("2026-06-01", 8), at("2026-06-01", 9)),
    ]
    ordered = sorted(claims, key=lambda c: (c.lift_id, c.created_at))
    found = list(episodes(ordered))
    counts = count_by_group(
        found, {1: 100, 2: 100, 3: 200}, {100: 2, 200: 1, 300: 4}, *year_2026, NOW
    )
    assert counts[100].breakdowns == 2
    assert counts[100].long_breakdowns == 1
    assert counts[100].calls == 3
    assert counts[100].long_per_lift == 0.5
    assert counts[200].breakdowns == 1
    assert counts[200].long_breakdowns == 0
    assert counts[300].breakdowns == 0
    assert counts[300].long_per_lift == 0.0
    landlord = total(counts.values())
    assert (landlord.breakdowns, landlord.long_breakdowns, landlord.lifts) == (3, 1, 7)
    assert landlord.long_per_lift == pytest.approx(1 / 7)


def test_no_lift_no_figure():
    assert total([]).long_per_lift is None


def test_claims_of_the_next_year_prolong_a_breakdown_running_at_its_end():
    (running,) = episodes([LiftClaim(1, 10, at("2026-12-31", 20), at("2027-01-02", 8))])
    later = [
        LiftClaim(1, 11, at("2027-01-01", 12), at("2027-01-03", 8), attached_calls=1),
        LiftClaim(1, 12, at("2027-01-03", 9), None),  # after the end: a breakdown of its own
    ]
    whole = extend(running, later)
    assert whole.ended_at == at("2027-01-03", 8)
    assert whole.claim_ids == (10, 11)
    assert whole.calls == 3
    assert extend(running, [LiftClaim(1, 13, at("2027-01-01", 9), None)]).ended_at is None
    with pytest.raises(ValueError, match="own lift"):
        extend(running, [LiftClaim(2, 14, at("2027-01-01", 9), None)])
