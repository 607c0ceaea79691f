"""The SLO math with plain numbers: SLIs by occurrences and by time, freshness charged from the crossing by the
evaluation in force (a rollback included), each evaluation judged by its own threshold, errors as bad time, and
the indexed history giving the definition's numbers in any insertion order."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dagster_project.indicators.registry import make
from dagster_project.slo.attainment import (
    SloHistory,
    good_until,
    group_figures,
    slo_figures,
    window_figures,
)
from dagster_project.slo.domain import Slo, Threshold

H = 3600.0
DAY = 24 * H


def make_slo(kind: str = "in_range", threshold: float = 0.5, windows: tuple[float, ...] = (7 * DAY,)) -> Slo:
    return Slo(
        id=kind,
        product="p",
        dimension="freshness" if kind == "max_age" else "validity",
        dataset="s.t",
        indicator=make(kind, column="c") if kind == "max_age" else make(kind, column="c", min=0.0),
        threshold=Threshold.of("max" if kind == "max_age" else "min", threshold),
        severity="error",
        objective=0.99,
        windows_s=windows,
        protects=("goal", "g"),
    )


Points = Sequence[tuple[float, bool | None, float | None, float]]


def history(kind: str, points: Points) -> SloHistory:
    """(at, passed, observed, threshold in force) per evaluation."""
    h = SloHistory()
    for at, passed, observed, threshold in points:
        h.add(at, passed, observed, good_until(kind, at, passed, observed, threshold))
    return h


def time_sli(h: SloHistory, start: float, end: float) -> float | None:
    good, known = h.time(start, end)
    return good / known if known else None


def test_occurrence_sli_counts_good_evaluations_in_the_window_and_errors_as_bad() -> None:
    h = history("in_range", [(t * H, p, 1.0, 0.5) for t, p in [(1, True), (2, False), (3, True), (4, None), (5, True)]])
    assert h.occurrence(0, 5 * H) == (3, 5)
    assert h.occurrence(2 * H, 5 * H) == (2, 3)  # (start, end]: the 2h evaluation is out
    assert h.occurrence(5 * H, 9 * H) == (0, 0)


def test_time_sli_holds_each_state_until_the_next_evaluation() -> None:
    # good 0-6h, bad 6-8h, good 8h on; window (0, 10h]: 8 of 10 hours good.
    h = history("in_range", [(0, True, 1.0, 0.5), (6 * H, False, 0.1, 0.5), (8 * H, True, 1.0, 0.5)])
    assert time_sli(h, 0, 10 * H) == pytest.approx(0.8)
    assert time_sli(h, 7 * H, 10 * H) == pytest.approx(2 / 3)  # the state in force at the window's start counts
    assert time_sli(h, -4 * H, 2 * H) == 1.0  # before the first evaluation nothing is known
    assert time_sli(h, -4 * H, 0) is None


def test_freshness_is_charged_from_the_moment_the_data_crossed_the_threshold() -> None:
    # Threshold 24h. Data updated at 0h; checks at 10h (age 10h) and 30h (age 30h) see it; data up to 34h is seen by
    # the check at 36h (age 2h). Known from 10h: stale from 24h (the crossing) to 36h: 14 good hours of 26.
    h = history("max_age", [(10 * H, True, 10 * H, DAY), (30 * H, False, 30 * H, DAY), (36 * H, True, 2 * H, DAY)])
    assert time_sli(h, 0, 36 * H) == pytest.approx(14 / 26)
    assert time_sli(h, 36 * H, 48 * H) == 1.0  # fresh until 34h + 24h = 58h
    assert time_sli(h, 36 * H, 60 * H) == pytest.approx(1 - 2 / 24)


def test_a_rollback_is_charged_from_the_check_that_reveals_it() -> None:
    # Fresh data (age 1h at 0h, 11h at 10h), then a restore from an old backup: the check at 20h sees data 72h old.
    # The newest update ever seen (-1h) would call the data fresh until 23h; the evaluation in force says stale
    # from 20h.
    h = history("max_age", [(0, True, H, DAY), (10 * H, True, 11 * H, DAY), (20 * H, False, 72 * H, DAY)])
    assert time_sli(h, 0, DAY) == pytest.approx(20 / 24)
    slo = make_slo("max_age", threshold=DAY, windows=(H,))
    # The 1h window half an hour after the rollback: half stale (the newest update ever seen would say all fresh).
    assert window_figures(slo, h, H, 20 * H + 30 * 60).time_sli == pytest.approx(0.5)


def test_each_evaluation_is_judged_by_the_threshold_in_force_when_it_ran() -> None:
    # 24h in force at 0h (age 1h): stale from 23h. The spec was loosened to 48h before the check at 30h (age 31h,
    # passed). 23h..30h stays bad: it was judged by 24h. The history does not take today's threshold at all.
    h = history("max_age", [(0, True, H, DAY), (30 * H, True, 31 * H, 2 * DAY)])
    assert time_sli(h, 0, 40 * H) == pytest.approx(33 / 40)


def test_a_check_that_could_not_run_is_bad_time() -> None:
    assert time_sli(history("max_age", [(0, None, None, DAY), (10 * H, None, None, DAY)]), 0, 20 * H) == 0.0
    h = history("max_age", [(0, True, 0, DAY), (5 * H, None, None, DAY), (10 * H, True, H, DAY)])
    assert time_sli(h, 0, 20 * H) == pytest.approx(15 / 20)


def test_figures_and_group_shares() -> None:
    slo = make_slo(windows=(10 * H, DAY))
    h = history("in_range", [(0, True, 1.0, 0.5), (6 * H, False, 0.1, 0.5), (8 * H, True, 1.0, 0.5)])
    figures = slo_figures(slo, h, 10 * H)
    assert figures.latest is not None and figures.latest.at == 8 * H
    short = figures.windows[0]
    assert short.time_sli == pytest.approx(0.8) and short.budget is not None and not short.budget.met
    assert (short.good_evaluations, short.evaluations) == (1, 2)  # (0, 10h]: the evaluation at 0 is out
    groups = group_figures([figures])
    assert groups[("p", "validity", 10 * H)].meeting.ratio == 0.0
    assert groups[("p", "all", DAY)].adherence.ratio == pytest.approx(2 / 3)
    # One evaluation at "now": nothing is known about time yet, so no budget (not "the whole budget").
    only = slo_figures(slo, history("in_range", [(10 * H, False, 0.1, 0.5)]), 10 * H)
    assert only.windows[0].budget is None and only.windows[0].occurrence_sli == 0.0


def _definition(points: Points, kind: str, start: float, end: float) -> float | None:
    """The time SLI straight from its definition, interval by interval, for comparison with the indexed form."""
    ordered = sorted(enumerate(points), key=lambda ip: (ip[1][0], ip[0]))
    good = known = 0.0
    for i, (_k, (at, passed, observed, threshold)) in enumerate(ordered):
        nxt = ordered[i + 1][1][0] if i + 1 < len(ordered) else math.inf
        lo, hi = max(at, start), min(nxt, end)
        if hi <= lo:
            continue
        known += hi - lo
        if passed is True:
            stale = at - observed + threshold if kind == "max_age" and observed is not None else math.inf
            good += max(0.0, min(hi, max(stale, at)) - lo)
    return good / known if known else None


point = st.tuples(
    st.integers(0, 1000).map(float),
    st.sampled_from([True, True, False, None]),
    st.integers(0, 30).map(float),
    st.sampled_from([5.0, 10.0, 20.0]),
)


@settings(max_examples=200, deadline=None)
@given(
    points=st.lists(point, max_size=40),
    kind=st.sampled_from(["in_range", "max_age"]),
    windows=st.lists(st.tuples(st.integers(-100, 1100), st.integers(1, 600)), min_size=1, max_size=5),
)
def test_the_indexed_history_gives_the_definitions_numbers_in_any_order(
    points: list[tuple[float, bool | None, float, float]], kind: str, windows: list[tuple[int, int]]
) -> None:
    written = history(kind, points)  # as written: out-of-order rows are inserted in place
    for start, length in windows:
        end = start + length
        expected = _definition(points, kind, start, end)
        actual = time_sli(written, start, end)
        assert (actual is None) == (expected is None)
        if expected is not None:
            assert actual == pytest.approx(expected, abs=1e-9)
        inside = [p for p in points if start < p[0] <= end]
        assert written.occurrence(start, end) == (sum(1 for p in inside if p[1] is True), len(inside))
