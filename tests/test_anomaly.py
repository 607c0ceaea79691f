"""The anomaly detector (indicators/detector.py) with plain numbers: learning, weekly and hour-of-day seasonality,
trend, robustness to past anomalies, constant histories, direction, and properties of the band and the score. The last
tests run the benchmark (benchmarks/anomaly_bench.py) on a tiny configuration so it cannot rot."""

from __future__ import annotations

import itertools
import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.anomaly_bench import KINDS, Config, generate, run, zscore
from dagster_project.indicators.detector import AnomalySettings, judge

MONDAY = datetime(2026, 3, 2, 6, tzinfo=UTC)
DEFAULT = AnomalySettings()


def daily(
    days: int, value: float | list[float], start: datetime = MONDAY, noise: float = 0.0, seed: int = 1
) -> list[tuple[datetime, float]]:
    """`days` daily points from `start`; value per weekday when a list; multiplicative normal noise."""
    rng = random.Random(seed)
    out = []
    for d in range(days):
        at = start + timedelta(days=d)
        base = value[at.weekday()] if isinstance(value, list) else value
        out.append((at, base * (1 + rng.gauss(0, noise))))
    return out


def after(history: list[tuple[datetime, float]], days: int = 1) -> datetime:
    return history[-1][0] + timedelta(days=days)


def test_the_verdict_is_learning_until_min_history_points() -> None:
    history = daily(13, 1000.0, noise=0.05)
    j = judge(history, after(history), 1000.0, AnomalySettings(seasonality="none"))
    assert j.verdict == "learning" and j.history_points == 13 and "13 of 14" in j.reason
    assert (j.expected, j.low, j.high, j.score) == (None, None, None, None)
    history = daily(14, 1000.0, noise=0.05)
    assert judge(history, after(history), 1000.0, AnomalySettings(seasonality="none")).verdict == "normal"


def test_weekly_seasonality_keeps_learning_until_the_history_reaches_two_weeks_back() -> None:
    history = [(MONDAY + timedelta(hours=6 * i), 100.0) for i in range(40)]  # 40 points over 10 days
    j = judge(history, after(history, 0) + timedelta(hours=6), 100.0, DEFAULT)
    assert j.verdict == "learning" and "weekly seasonality needs 13.5" in j.reason
    assert judge(history, after(history, 0) + timedelta(hours=6), 100.0, AnomalySettings(seasonality="daily")).verdict
    assert judge(history, history[-1][0] + timedelta(hours=6), 100.0, AnomalySettings(seasonality="none")).verdict in {
        "normal"
    }


def test_points_outside_the_training_window_or_not_before_the_judged_instant_are_ignored() -> None:
    history = daily(60, 1000.0, noise=0.05)
    at = history[30][0]
    j = judge(history, at, 1000.0, AnomalySettings(training_window_s=20 * 86_400, seasonality="none"))
    assert j.history_points == 20  # days 10..29: day 30 itself and the days after it are not history


WEEK = [500.0, 1000.0, 1000.0, 1000.0, 1000.0, 700.0, 600.0]  # a Monday dip and a quiet weekend


def test_a_weekly_pattern_is_expected_not_anomalous() -> None:
    history = daily(56, WEEK, noise=0.04)
    monday = after(history)
    assert monday.weekday() == 0
    j = judge(history, monday, 520.0, DEFAULT)
    assert j.verdict == "normal" and j.low is not None and j.high is not None and j.low < 520 < j.high
    assert j.expected == pytest.approx(500, rel=0.05)
    # Without seasonality a Monday is expected like any day, near 1,000, and the dips of three days in seven show as a
    # long lower tail of the noise: the band below is stretched over them, far wider than with seasonality.
    flat = judge(history, monday, 520.0, AnomalySettings(seasonality="none"))
    assert flat.expected is not None and flat.expected > 900 and flat.low is not None and j.expected is not None
    assert flat.expected - flat.low > 5 * (j.expected - j.low)
    assert judge(history, monday + timedelta(days=1), 520.0, DEFAULT).verdict == "anomalous"  # not on a Tuesday


def test_a_drop_to_30_percent_of_the_volume_is_flagged() -> None:
    history = daily(56, WEEK, noise=0.05)
    tuesday = after(history, 2)
    j = judge(history, tuesday, 300.0, DEFAULT)
    assert j.verdict == "anomalous" and j.score is not None and j.score < -DEFAULT.sensitivity
    assert "below the expected band" in j.reason
    assert judge(history, tuesday, 960.0, DEFAULT).verdict == "normal"


def test_one_outlier_in_the_history_does_not_hide_the_next_anomaly() -> None:
    clean = daily(56, WEEK, noise=0.05)
    broken = list(clean)
    broken[-3] = (broken[-3][0], 0.0)  # a stale day, 0 rows
    broken[-10] = (broken[-10][0], 5_000.0)  # a spike
    tuesday = after(clean, 2)
    a, b = judge(clean, tuesday, 300.0, DEFAULT), judge(broken, tuesday, 300.0, DEFAULT)
    assert a.verdict == b.verdict == "anomalous"
    assert a.low is not None and a.high is not None and b.low is not None and b.high is not None
    assert (b.high - b.low) < 1.25 * (a.high - a.low)  # the band barely widens
    naive = zscore(AnomalySettings(seasonality="none"))  # the z-score's band swallows the drop
    assert naive(broken, tuesday, 300.0) is False


def test_a_trend_is_followed() -> None:
    history = [(MONDAY + timedelta(days=d), 1000.0 * 1.01**d) for d in range(56)]
    at = after(history)
    on_trend = 1000.0 * 1.01**56
    assert judge(history, at, on_trend, DEFAULT).verdict == "normal"
    assert judge(history, at, 1000.0, DEFAULT).verdict == "anomalous"  # where it started: far below the trend
    linear = [(t, 1000.0 + 10 * d) for d, (t, _v) in enumerate(history)]
    j = judge(linear, at, 1560.0, AnomalySettings(transform="none"))
    assert j.verdict == "normal" and j.expected == pytest.approx(1560, rel=1e-9)


def test_a_constant_history_ignores_a_wobble_but_flags_a_real_change() -> None:
    history = daily(28, 1000.0)
    at = after(history)
    assert judge(history, at, 1001.0, DEFAULT).verdict == "normal"
    assert judge(history, at, 1030.0, DEFAULT).verdict == "normal"  # within sensitivity x the 2% floor
    assert judge(history, at, 900.0, DEFAULT).verdict == "anomalous"
    assert judge(history, at, 1001.0, AnomalySettings(relative_floor=0.0)).verdict == "anomalous"


def test_a_history_of_zeros_flags_any_other_value() -> None:
    history = daily(28, 0.0)
    at = after(history)
    assert judge(history, at, 0.0, DEFAULT).verdict == "normal"
    j = judge(history, at, 0.01, DEFAULT)
    assert j.verdict == "anomalous" and j.score is not None and math.isfinite(j.score)


def test_a_mostly_constant_history_uses_its_mean_deviation_when_the_mad_is_zero() -> None:
    history = daily(28, 0.0)
    history[5] = (history[5][0], 0.02)  # one null share of 2% in four weeks: the MAD is still 0
    at = after(history)
    j = judge(history, at, 0.001, AnomalySettings(seasonality="none"))
    assert j.verdict == "normal"  # less than the spread seen before
    assert judge(history, at, 0.3, AnomalySettings(seasonality="none")).verdict == "anomalous"


def test_direction_decides_which_side_of_the_band_is_an_anomaly() -> None:
    history = daily(56, 4 * 3600.0, noise=0.05)  # a freshness lag of about 4 hours
    at = after(history)
    late, early = 30 * 3600.0, 0.5 * 3600.0
    both, up, down = (AnomalySettings(direction=d) for d in ("both", "up", "down"))
    assert [judge(history, at, late, s).verdict for s in (both, up, down)] == ["anomalous", "anomalous", "normal"]
    assert [judge(history, at, early, s).verdict for s in (both, up, down)] == ["anomalous", "normal", "anomalous"]
    assert "only up deviations" in judge(history, at, early, up).reason


def test_an_hour_of_day_pattern_is_expected_with_several_points_a_day() -> None:
    saw = [22.0, 4.0, 10.0, 16.0]  # hours since the 02:00 load, checked at 00, 06, 12 and 18
    rng = random.Random(3)
    start = MONDAY.replace(hour=0)
    history = [(start + timedelta(hours=6 * i), 3600 * (saw[i % 4] + rng.gauss(0, 0.3))) for i in range(4 * 28)]
    at = after(history, 0) + timedelta(hours=6)  # 00:00
    assert at.hour == 0
    assert judge(history, at, 22 * 3600.0, DEFAULT).verdict == "normal"
    assert judge(history, at + timedelta(hours=6), 22 * 3600.0, DEFAULT).verdict == "anomalous"  # 06:00: stale
    assert judge(history, at + timedelta(hours=6), 22 * 3600.0, AnomalySettings(seasonality="none")).verdict == "normal"


def test_a_metric_with_negative_values_is_fitted_on_the_plain_scale() -> None:
    history = daily(28, [(-1) ** d * 5.0 for d in range(7)], noise=0.0)
    history = [(t, v + random.Random(i).gauss(0, 0.2)) for i, (t, v) in enumerate(history)]
    at = after(history)
    j = judge(history, at, 5.0, DEFAULT)  # a Monday: +5
    assert j.verdict == "normal" and j.expected == pytest.approx(5.0, abs=0.5)
    assert judge(history, at, -5.0, DEFAULT).verdict == "anomalous"


def lag_checked_four_times_a_day(weeks: int, seed: int = 5) -> list[tuple[datetime, float]]:
    """Hours since the last load at 00, 06, 12 and 18 h: 3 h plus the day's delay, 24 h more on Sundays (no load),
    6 h more each check: offsets that add up in hours."""
    rng = random.Random(seed)
    start = MONDAY.replace(hour=0)
    out = []
    for day in range(7 * weeks):
        delay = rng.gauss(1.0, 0.3)
        for check in range(4):
            at = start + timedelta(days=day, hours=6 * check)
            out.append((at, 3600 * (3 + delay + (24 if at.weekday() == 6 else 0) + 6 * check)))
    return out


def test_auto_fits_offsets_that_add_up_in_the_metrics_units_on_the_plain_scale() -> None:
    history = lag_checked_four_times_a_day(10)
    sunday_18h = after(history, 7)
    assert (sunday_18h.weekday(), sunday_18h.hour) == (6, 18)
    auto, plain = (
        judge(history, sunday_18h, 3600 * 46.0, DEFAULT),
        judge(history, sunday_18h, 3600 * 46.0, AnomalySettings(transform="none")),
    )
    assert auto.expected == plain.expected and auto.low == plain.low and auto.high == plain.high
    assert auto.verdict == "normal" and auto.expected == pytest.approx(3600 * 46, rel=0.03)
    assert judge(history, sunday_18h, 3600 * 54.0, DEFAULT).verdict == "anomalous"  # a load 8 h late on a Sunday


def test_auto_fits_a_weekly_factor_with_noise_growing_with_the_level_on_the_log_scale() -> None:
    history = daily(84, [1000.0, 1000.0, 1000.0, 1000.0, 1000.0, 200.0, 200.0], noise=0.04)
    saturday = after(history) + timedelta(days=5)
    assert saturday.weekday() == 5
    # On the log scale the weekend's noise is 4% of 200 rows; the plain scale's would be the weekdays' 4% of 1,000.
    assert judge(history, saturday, 120.0, DEFAULT).verdict == "anomalous"
    assert judge(history, saturday, 120.0, AnomalySettings(transform="none")).verdict == "normal"
    assert judge(history, saturday, 205.0, DEFAULT).verdict == "normal"


def test_a_long_right_tail_of_the_noise_widens_the_band_above_only() -> None:
    rng = random.Random(8)
    history = [(MONDAY + timedelta(days=d), 3 + rng.gammavariate(2.0, 0.5)) for d in range(84)]
    j = judge(history, after(history), 4.0, AnomalySettings(transform="none", seasonality="none"))
    assert j.expected is not None and j.low is not None and j.high is not None
    assert j.high - j.expected > 1.15 * (j.expected - j.low)
    mirrored = [(t, 10 - v) for t, v in history]
    m = judge(mirrored, after(history), 6.0, AnomalySettings(transform="none", seasonality="none"))
    assert m.expected is not None and m.low is not None and m.high is not None
    assert m.expected - m.low == pytest.approx(j.high - j.expected) and m.high - m.expected == pytest.approx(
        j.expected - j.low
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"training_window_s": 0},
        {"min_history": 2},
        {"sensitivity": 0},
        {"relative_floor": -0.1},
        {"seasonality": "monthly"},
        {"direction": "sideways"},
        {"transform": "sqrt"},
    ],
)
def test_settings_refuse_values_that_cannot_work(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        AnomalySettings(**bad)  # type: ignore[arg-type]


def test_a_value_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        judge(daily(28, 1.0), MONDAY, math.nan, DEFAULT)


series_strategy = st.lists(st.floats(min_value=1.0, max_value=1e6), min_size=20, max_size=40)


@settings(max_examples=60, deadline=None)
@given(
    values=series_strategy, value=st.floats(min_value=0.0, max_value=2e6), transform=st.sampled_from(["auto", "none"])
)
def test_the_band_contains_the_expected_value(values: list[float], value: float, transform: str) -> None:
    history = [(MONDAY + timedelta(days=d), v) for d, v in enumerate(values)]
    j = judge(history, after(history), value, AnomalySettings(transform=transform))  # type: ignore[arg-type]
    assert j.low is not None and j.high is not None and j.expected is not None and j.score is not None
    assert j.low < j.expected < j.high
    assert (j.verdict == "anomalous") == (abs(j.score) > DEFAULT.sensitivity)


@settings(max_examples=60, deadline=None)
@given(
    values=series_strategy,
    value=st.floats(min_value=0.0, max_value=2e6),
    factor=st.floats(min_value=1e-3, max_value=1e3),
    transform=st.sampled_from(["auto", "none"]),
)
def test_scaling_the_series_scales_the_band_and_keeps_the_verdict(
    values: list[float], value: float, factor: float, transform: str
) -> None:
    s = AnomalySettings(transform=transform)  # type: ignore[arg-type]
    history = [(MONDAY + timedelta(days=d), v) for d, v in enumerate(values)]
    scaled = [(t, v * factor) for t, v in history]
    a, b = judge(history, after(history), value, s), judge(scaled, after(history), value * factor, s)
    assert a.expected is not None and a.low is not None and a.high is not None and a.score is not None
    assert b.expected == pytest.approx(a.expected * factor, rel=1e-6)
    assert b.low == pytest.approx(a.low * factor, rel=1e-6, abs=1e-6 * abs(a.high * factor))
    assert b.high == pytest.approx(a.high * factor, rel=1e-6)
    assert b.score == pytest.approx(a.score, rel=1e-6, abs=1e-6)
    if abs(abs(a.score) - s.sensitivity) > 1e-6:
        assert a.verdict == b.verdict


@settings(max_examples=60, deadline=None)
@given(
    values=series_strategy,
    values_at=st.lists(st.floats(min_value=-1e6, max_value=3e6), min_size=2, max_size=6),
    transform=st.sampled_from(["auto", "none"]),
)
def test_the_score_grows_with_the_value(values: list[float], values_at: list[float], transform: str) -> None:
    s = AnomalySettings(transform=transform)  # type: ignore[arg-type]
    history = [(MONDAY + timedelta(days=d), v) for d, v in enumerate(values)]
    scores = [judge(history, after(history), v, s).score for v in sorted(values_at)]
    assert all(x is not None for x in scores)
    assert all(a <= b for a, b in itertools.pairwise(scores))  # type: ignore[operator]


# -- the benchmark, tiny ----------------------------------------------------------------------------------------------


def test_the_benchmark_plants_its_anomalies_only_on_their_days() -> None:
    for kind in KINDS:
        anomalous, clean = generate(kind, 7, 120, 1, True), generate(kind, 7, 120, 1, False)
        assert (
            clean.planted == []
            and len(anomalous.planted) == {"row_count": 4, "freshness_lag": 3, "null_share": 2}[kind]
        )
        spans = {d for p in anomalous.planted for d in range(p.first_day, p.last_day + 1)}
        changed = {d for d, (a, c) in enumerate(zip(anomalous.points, clean.points, strict=True)) if a != c}
        assert changed == spans
        assert all(p.first_day >= 60 for p in anomalous.planted)


def test_the_benchmark_runs_on_a_tiny_configuration_and_scores_every_planted_anomaly() -> None:
    results = run(Config(seeds=[0], days=120, per_day=1))
    for name in ("ours", "zscore"):
        s = results[name]["all"].summary()
        assert s["planted"] == 9
        assert s["clean_days_judged"] == 3 * (120 - 14)  # learning for the first two weeks
        assert isinstance(s["recall"], float) and 0 <= s["recall"] <= 1
    assert results["ours"]["all"].detected >= results["zscore"]["all"].detected
