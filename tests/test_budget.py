"""SLO math with plain numbers: SLIs by occurrences and by time, exact freshness, budgets and burn rates."""

from __future__ import annotations

import math

import pytest

from dagster_project.slo.budget import (
    Point,
    adherence,
    budget,
    burn_rate,
    freshness_time_sli,
    occurrence_sli,
    share_meeting,
    time_sli,
    update_times,
)

H = 3600.0


def test_occurrence_sli_counts_good_evaluations_in_the_window_and_errors_as_bad() -> None:
    points = [Point(1 * H, True), Point(2 * H, False), Point(3 * H, True), Point(4 * H, None), Point(5 * H, True)]
    assert occurrence_sli(points, 0, 5 * H) == 3 / 5
    assert occurrence_sli(points, 2 * H, 5 * H) == 2 / 3  # (start, end]: the 2h evaluation is out
    assert occurrence_sli(points, 5 * H, 9 * H) is None


def test_time_sli_holds_each_state_until_the_next_evaluation() -> None:
    # good 0-6h, bad 6-8h, good 8h on; window (0, 10h]: 8 of 10 hours good.
    points = [Point(0, True), Point(6 * H, False), Point(8 * H, True)]
    assert time_sli(points, 0, 10 * H) == pytest.approx(0.8)
    # A window starting inside the bad stretch takes the state in force at its start.
    assert time_sli(points, 7 * H, 10 * H) == pytest.approx(2 / 3)
    # Before the first evaluation nothing is known: (-4h, 2h] knows only 2 hours, both good.
    assert time_sli(points, -4 * H, 2 * H) == 1.0
    assert time_sli(points, -4 * H, 0) is None


def test_freshness_is_charged_from_the_moment_the_data_crossed_the_threshold() -> None:
    # Threshold 24h. Data updated at 0h; checks at 10h (age 10h) and 30h (age 30h) see that update; a load with data
    # up to 34h is first seen by the check at 36h (age 2h).
    points = [Point(10 * H, True, 10 * H), Point(30 * H, False, 30 * H), Point(36 * H, True, 2 * H)]
    assert update_times(points) == [0.0, 34 * H]
    # Known from the first check (10h): stale from 24h (crossing) until 36h (the new data seen): 12 of 26 hours.
    assert freshness_time_sli(points, 24 * H, 0, 36 * H) == pytest.approx(14 / 26)
    # The state-holding SLI would charge only from the failed check at 30h: 6 hours.
    assert time_sli(points, 0, 36 * H) == pytest.approx(20 / 26)
    # After 36h the data is fresh until 34h + 24h = 58h: (36h, 48h] is all good.
    assert freshness_time_sli(points, 24 * H, 36 * H, 48 * H) == 1.0
    assert freshness_time_sli(points, 24 * H, 36 * H, 60 * H) == pytest.approx(1 - 2 / 24)


def test_freshness_failures_are_never_erased_by_back_dated_data() -> None:
    # The check at 30h saw stale data; the one at 31h sees rows dated 29h (loaded late). 24h..31h stays stale.
    points = [Point(0, True, 0), Point(30 * H, False, 30 * H), Point(31 * H, True, 2 * H)]
    assert freshness_time_sli(points, 24 * H, 0, 31 * H) == pytest.approx(24 / 31)


def test_a_freshness_check_that_could_not_run_is_bad_time() -> None:
    assert freshness_time_sli([Point(0, None), Point(10 * H, None)], 24 * H, 0, 20 * H) == 0.0
    points = [Point(0, True, 0), Point(5 * H, None), Point(10 * H, True, 1 * H)]
    assert freshness_time_sli(points, 24 * H, 0, 20 * H) == pytest.approx(15 / 20)


def test_budget_and_burn_rate_with_numbers() -> None:
    b = budget(0.995, 0.99)
    assert b.met and b.budget == pytest.approx(0.01)
    assert b.consumed == pytest.approx(0.5) and b.remaining == pytest.approx(0.5)
    over = budget(0.97, 0.99)  # three times the budget spent: remaining -2
    assert not over.met and over.consumed == pytest.approx(3.0) and over.remaining == pytest.approx(-2.0)
    assert burn_rate(0.856, 0.99) == pytest.approx(14.4)  # the SRE workbook's fast-burn page
    assert burn_rate(1.0, 1.0) == 0.0 and math.isinf(burn_rate(0.5, 1.0))
    assert budget(1.0, 1.0).remaining == 1.0


def test_share_meeting_and_adherence() -> None:
    budgets = [budget(0.999, 0.99), budget(0.98, 0.99), None, budget(1.0, 0.95)]
    assert (share_meeting(budgets).meeting, share_meeting(budgets).total) == (2, 3)
    assert share_meeting([]).ratio is None
    points = [Point(1, True), Point(2, True), Point(3, False), Point(4, None)]
    assert adherence(points, 0, 4).ratio == 0.5
