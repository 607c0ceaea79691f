"""Budgets, burn rates and shares with plain numbers (the SLIs are tested in test_attainment.py)."""

from __future__ import annotations

import math

import pytest

from dagster_project.slo.budget import budget, burn_rate, share_meeting


def test_budget_and_burn_rate_with_numbers() -> None:
    b = budget(0.995, 0.99)
    assert b.met and b.budget == pytest.approx(0.01)
    assert b.consumed == pytest.approx(0.5) and b.remaining == pytest.approx(0.5)
    over = budget(0.97, 0.99)  # three times the budget spent: remaining -2
    assert not over.met and over.consumed == pytest.approx(3.0) and over.remaining == pytest.approx(-2.0)
    assert burn_rate(0.856, 0.99) == pytest.approx(14.4)  # the SRE workbook's fast-burn page
    assert burn_rate(1.0, 1.0) == 0.0 and math.isinf(burn_rate(0.5, 1.0))
    assert budget(1.0, 1.0).remaining == 1.0


def test_share_meeting_counts_slos_with_a_known_sli() -> None:
    budgets = [budget(0.999, 0.99), budget(0.98, 0.99), None, budget(1.0, 0.95)]
    assert (share_meeting(budgets).meeting, share_meeting(budgets).total) == (2, 3)
    assert share_meeting([]).ratio is None
