"""The pure arithmetic of polls, computed by hand."""

from __future__ import annotations

import math

import pytest

from grc.polls.figures import Rate, Reading, allocate, margin_of_error, read_poll_answer


def test_proportional_allocation_by_largest_remainder():
    # 107 tenants, 10 to draw: quotas 4.67, 2.80, 1.87, 0.65 → floors 4 2 1 0 (7), the three
    # units left to the largest remainders .87 (c), .80 (b), .67 (a).
    assert allocate({"a": 50, "b": 30, "c": 20, "d": 7}, 10) == {"a": 5, "b": 3, "c": 2, "d": 0}
    # Equal remainders: the larger stratum first.
    assert allocate({"small": 1, "large": 3}, 2) == {"small": 0, "large": 2}
    assert allocate({"a": 2, "b": 2, "c": 4}, 4) == {"a": 1, "b": 1, "c": 2}
    assert allocate({"a": 3, "b": 1}, 10) == {"a": 3, "b": 1}
    assert allocate({"a": 3}, 0) == {"a": 0}


def test_margin_of_error_with_finite_population_correction():
    # p = 0.7, n = 100, N = 1000: 1.96 × √(0.21/100) × √(900/999)
    expected = 1.96 * math.sqrt(0.7 * 0.3 / 100) * math.sqrt(900 / 999)
    assert margin_of_error(0.7, 100, 1000) == pytest.approx(expected)
    assert expected == pytest.approx(0.0853, abs=1e-4)
    # Everyone answered: no sampling error.
    assert margin_of_error(0.5, 40, 40) == 0
    rate = Rate(answers=4, satisfied=3, population=50)
    assert rate.rate == 0.75
    assert not rate.enough


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2", 2),
        ("2/4", 2),
        ("2 sur 4", 2),
        ("Plutôt satisfait", 2),
        ("plutot pas satisfait", 3),
        ("PAS DU TOUT SATISFAIT", 4),
        ("1 très satisfait", 1),
        ("3 merci", 3),
        ("Very satisfied", 1),
        ("5", None),
        ("2 3", None),
        ("1 pas du tout satisfait", None),
        ("j'ai 3 enfants et le hall est sale", None),
        ("bof", None),
        ("10", None),
        ("le 2/4/2026", None),
    ],
)
def test_reading_an_sms_answer(text, value):
    reading = read_poll_answer(text)
    assert reading.value == value
    assert (reading.kind == Reading.VALUE) == (value is not None)
