"""Anomaly detection for one metric against its own history: a pure function of numbers, no I/O.

The model (docs/anomaly-detection.md): within the training window before the judged instant, a value is

    level + slope * t + weekday offset + hour-of-day offset + noise

fitted robustly, so that past anomalies in the history barely move it: the slope is Theil-Sen's (median of pairwise
slopes, over one median per day), the offsets are medians per weekday and per hour of day (backfitted three times
with the trend), and the noise scale is the MAD of the residuals (1.4826 x MAD: the standard deviation for normal
noise), widened on a side whose quartile says its tail is longer. A value is anomalous when it lies
more than `sensitivity` noise scales from the expected value, in the directions asked for. A non-negative metric is
fitted on the plain and on a log scale, and the fit whose residuals are the more evenly spread over the weekdays and
hours is used (`transform: auto`). The scale has a floor (`relative_floor` of the history's typical magnitude), so a
constant series does not alarm on a tiny wobble but does on a real change.

Pure Python (statistics, math): histories are at most a few hundred points and `slo check` must not pay for numpy.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

DAY_S = 86_400.0
Seasonality = Literal["weekly", "daily", "none"]
Direction = Literal["both", "up", "down"]
Verdict = Literal["learning", "normal", "anomalous"]
Transform = Literal["auto", "none"]

MAD_TO_SIGMA = 1.4826  # 1 / Phi^-1(3/4): the MAD of normal noise times this is its standard deviation
MEANAD_TO_SIGMA = 1.2533  # sqrt(pi / 2): the same for the mean absolute deviation, used when the MAD is 0
WEEKLY_SPAN_S = 13.5 * DAY_S  # weekly seasonality needs two of every weekday: history reaching 2 weeks back
MIN_KEY_POINTS = 2  # a weekday or hour seen fewer times than this in the window gets no offset
MAX_TREND_BUCKETS = 150  # Theil-Sen is quadratic in its points: longer windows are bucketed more coarsely
BACKFIT_ROUNDS = 3
LOG_SHIFT = 0.05  # log(value + 5% of the history's median): a 0 stays finite (and far below a typical value)
MIN_LOG_SHARE = 1e-3  # a value below -shift (a negative count) is judged as shift / 1000
QUARTILE_TO_SIGMA = 1 / 0.6745  # the normal's upper quartile is 0.6745 standard deviations above its median


@dataclass(frozen=True)
class AnomalySettings:
    """How one metric is judged.

    training_window_s: how far back the history is read (default 12 weeks: 12 of every weekday; the benchmark
        chose it).
    min_history: points in the window before judging; until then the verdict is "learning". With weekly
        seasonality the history must also reach 13.5 days back (two of every weekday).
    sensitivity: how many noise scales (robust standard deviations) from the expected value a value must be to
        be anomalous; higher means fewer alarms. For normal noise, 4 flags about 1 clean point in 16,000, 4.5 about
        1 in 150,000. The default 4.5 is the benchmark's choice on 40 tuning seeds (BENCHMARKS.md).
    seasonality: "weekly" fits a weekday offset, and an hour-of-day offset when the history has several points a
        day; "daily" only the hour-of-day offset; "none" neither (level and trend only).
    direction: "up" flags only values above the band (freshness lag, null share), "down" only below, "both" either.
    relative_floor: the noise scale is never below this share of the typical value (on the log scale: log(1 +
        relative_floor); on the plain scale: of the history's median absolute value), so a constant 1,000 rows a day
        gives a band of about 1,000 x/ 1.02^sensitivity by default; 0 turns the floor off.
    transform: "auto" fits both log(value + 5% of the history's median) and the plain values when the history is
        non-negative with a positive median, and uses the fit whose residuals are the more evenly spread over the
        weekdays and hours (a count's weekly pattern is a factor and its noise grows with the level: log; a lag's
        Sunday and hour-of-day offsets add up in hours: plain), else the plain values; "none" always fits the plain
        values.
    """

    training_window_s: float = 84 * DAY_S
    min_history: int = 14
    sensitivity: float = 4.5
    seasonality: Seasonality = "weekly"
    direction: Direction = "both"
    relative_floor: float = 0.02
    transform: Transform = "auto"

    def __post_init__(self) -> None:
        if not self.training_window_s > 0:
            raise ValueError(f"training_window_s must be positive, got {self.training_window_s}")
        if self.min_history < 3:
            raise ValueError(f"min_history must be at least 3, got {self.min_history}")
        if not self.sensitivity > 0:
            raise ValueError(f"sensitivity must be positive, got {self.sensitivity}")
        if not self.relative_floor >= 0:
            raise ValueError(f"relative_floor must be 0 or more, got {self.relative_floor}")
        if self.seasonality not in ("weekly", "daily", "none"):
            raise ValueError(f"seasonality must be weekly, daily or none, got {self.seasonality!r}")
        if self.transform not in ("auto", "none"):
            raise ValueError(f"transform must be auto or none, got {self.transform!r}")
        if self.direction not in ("both", "up", "down"):
            raise ValueError(f"direction must be both, up or down, got {self.direction!r}")


@dataclass(frozen=True)
class AnomalyJudgement:
    """The verdict on one value. expected/low/high/score are None while learning; score is the signed distance
    from expected in noise scales (negative below), so |score| > sensitivity is outside the band."""

    verdict: Verdict
    expected: float | None
    low: float | None
    high: float | None
    score: float | None
    history_points: int
    reason: str


@dataclass(frozen=True)
class Fit:
    """The fitted model at the judged instant, and the noise scale of its residuals."""

    expected: float
    scale: float
    slope_per_day: float
    seasonal: float
    spread: float  # the residuals' robust standard deviation, before the prediction inflation and the floor
    scale_up: float  # the scale above expected: never below `scale`, wider when the residuals' upper tail is longer
    scale_down: float  # the same below expected
    unevenness: float  # how much the residuals' spread differs between weekdays (hours): 0 when it does not


def judge(
    history: Sequence[tuple[datetime, float]], at: datetime, value: float, settings: AnomalySettings
) -> AnomalyJudgement:
    """Judge `value`, measured at `at`, against the points of `history` in the training window before `at`.

    Points at or after `at`, outside the window or not finite are ignored. Weekdays and hours are those of the
    datetimes as given: pass local times for a business week in local time. Raises ValueError on a non-finite value.
    """
    if not math.isfinite(value):
        raise ValueError(f"the judged value must be a finite number, got {value}")
    start = at.timestamp() - settings.training_window_s
    window = sorted((t, float(v)) for t, v in history if start <= t.timestamp() < at.timestamp() and math.isfinite(v))
    n = len(window)
    days = settings.training_window_s / DAY_S
    if n < settings.min_history:
        return _learning(n, f"learning: {n} of {settings.min_history} history points in the {days:g}-day window")
    reach = at.timestamp() - window[0][0].timestamp()
    if settings.seasonality == "weekly" and reach < WEEKLY_SPAN_S:
        return _learning(
            n, f"learning: the history reaches {reach / DAY_S:.1f} days back, weekly seasonality needs 13.5"
        )
    typical = statistics.median(abs(v) for _t, v in window)
    k = settings.sensitivity
    plain = fit_at(window, at, settings, settings.relative_floor * typical)
    logged = _log_fit(window, at, value, settings, typical, plain)
    if logged is not None:
        fit, seen, shift = logged
        score = (seen - fit.expected) / (fit.scale_up if seen > fit.expected else fit.scale_down)
        expected = math.exp(fit.expected) - shift
        low = math.exp(fit.expected - k * fit.scale_down) - shift
        high = math.exp(fit.expected + k * fit.scale_up) - shift
    else:
        fit = plain
        score = (value - fit.expected) / (fit.scale_up if value > fit.expected else fit.scale_down)
        expected, low, high = fit.expected, fit.expected - k * fit.scale_down, fit.expected + k * fit.scale_up
    above, below = score > k, score < -k
    flagged = (above and settings.direction != "down") or (below and settings.direction != "up")
    band = f"{_num(low)}..{_num(high)}"
    if flagged:
        side = "above" if above else "below"
        reason = f"anomalous: {_num(value)} is {side} the expected band {band} (score {score:+.1f}, expected "
        reason += f"{_num(expected)}, {n} points)"
    else:
        reason = f"normal: {_num(value)} within what is expected ({band}, score {score:+.1f}, {n} points)"
        if above or below:
            reason = f"normal: {_num(value)} is outside {band} (score {score:+.1f}) but only "
            reason += f"{settings.direction} deviations are anomalies ({n} points)"
    return AnomalyJudgement("anomalous" if flagged else "normal", expected, low, high, score, n, reason)


def _log_fit(
    window: Sequence[tuple[datetime, float]],
    at: datetime,
    value: float,
    settings: AnomalySettings,
    typical: float,
    plain: Fit,
) -> tuple[Fit, float, float] | None:
    """The fit on the log scale, log(value + shift), with the judged value on that scale and the shift, when
    `transform: auto` may use it (a non-negative history with a positive median) and the history fits better on it
    than on the plain scale; else None.

    Better: the residuals are more evenly spread over the weekdays and hours (Fit.unevenness; a tie goes to the
    log). A weekly pattern that is a factor (weekends at half a weekday's rows) with noise that grows with the level
    leaves the weekend's residuals smaller on the plain scale and alike on the log one; offsets that add up in the
    metric's own units (a lag 24 h longer on Sundays, 6 h longer each check through the day) with a delay that does
    not grow with them leave Sunday's residuals smaller on the log scale and alike on the plain one. (Comparing the
    overall spreads, in the units of the plain scale as Box and Cox do, was tried: the MAD hardly sees a misfit on
    one weekday in seven and the choice flipped between days.) Decided on the training window only."""
    if settings.transform != "auto" or not typical > 0 or any(v < 0 for _t, v in window):
        return None
    shift = LOG_SHIFT * typical
    logs = [(t, math.log(v + shift)) for t, v in window]
    fit = fit_at(logs, at, settings, math.log1p(settings.relative_floor))
    if plain.unevenness < fit.unevenness:
        return None
    seen = math.log(max(value + shift, shift * MIN_LOG_SHARE))  # a negative value is as far as 0 can be
    return fit, seen, shift


def fit_at(window: Sequence[tuple[datetime, float]], at: datetime, settings: AnomalySettings, floor: float) -> Fit:
    """Fit level, trend and seasonal offsets to `window` (at least 3 points) robustly, and predict at `at`, on the
    scale given (the caller transforms the values)."""
    ys = [v for _t, v in window]
    xs = [(t.timestamp() - at.timestamp()) / DAY_S for t, _v in window]
    weekdays = [t.weekday() for t, _v in window]
    hours = [t.hour for t, _v in window]
    use_weekday = settings.seasonality == "weekly"
    use_hour = settings.seasonality != "none" and _several_a_day(xs)
    weekday_off: dict[int, float] = {}
    hour_off: dict[int, float] = {}
    slope, intercept = 0.0, statistics.median(ys)
    for _round in range(BACKFIT_ROUNDS):
        if use_weekday:
            rest = [y - intercept - slope * x - hour_off.get(h, 0.0) for y, x, h in zip(ys, xs, hours, strict=True)]
            weekday_off = _offsets(weekdays, rest)
        if use_hour:
            rest = [
                y - intercept - slope * x - weekday_off.get(d, 0.0) for y, x, d in zip(ys, xs, weekdays, strict=True)
            ]
            hour_off = _offsets(hours, rest)
        plain = [
            y - weekday_off.get(d, 0.0) - hour_off.get(h, 0.0) for y, d, h in zip(ys, weekdays, hours, strict=True)
        ]
        slope = _theil_sen(xs, plain)
        intercept = statistics.median(p - slope * x for p, x in zip(plain, xs, strict=True))
    fitted = [
        intercept + slope * x + weekday_off.get(d, 0.0) + hour_off.get(h, 0.0)
        for x, d, h in zip(xs, weekdays, hours, strict=True)
    ]
    residuals = [y - f for y, f in zip(ys, fitted, strict=True)]
    seasonal = weekday_off.get(at.weekday(), 0.0) + hour_off.get(at.hour, 0.0)
    # In-sample residuals understate the error of a prediction: inflate by the fitted parameters' share of the
    # points (as n - p degrees of freedom do for a variance) and by the error of the medians the prediction uses
    # (a median's variance is pi/2 times a mean's).
    # With several points a day, the points of one day share that day's disturbance (one load's delay, one day's
    # volume): the trend and the weekday offsets are known only as well as the number of days allows.
    n = len(ys)
    hour_params = max(0, len(hour_off) - 1)
    day_params = 2 + max(0, len(weekday_off) - 1)
    if use_hour:
        dates = [t.date() for t, _v in window]
        n_days = len(set(dates))
        weekday_days = len({d for d, w in zip(dates, weekdays, strict=True) if w == at.weekday()})
        hour_days = len({d for d, h in zip(dates, hours, strict=True) if h == at.hour})
        dof = math.sqrt(n_days / max(n_days - day_params, 1)) * math.sqrt(n / max(n - hour_params, 1))
    else:
        n_days, weekday_days, hour_days = n, weekdays.count(at.weekday()), hours.count(at.hour)
        dof = math.sqrt(n / max(n - day_params - hour_params, 1))
    used = [1 / n_days] + [1 / weekday_days] * (at.weekday() in weekday_off)
    used += [1 / hour_days] * (at.hour in hour_off)
    inflation = dof * math.sqrt(1 + math.pi / 2 * sum(used))
    spread = _scale(residuals)
    up, down = _tails(residuals)

    def widened(s: float) -> float:
        s = max(inflation * s, floor)
        return s if s > 0.0 else _tiny(ys)  # a constant history with the floor off: any other value is a change

    scale, scale_up, scale_down = widened(spread), widened(max(spread, up)), widened(max(spread, down))
    keys = [(d if use_weekday else 0, h if use_hour else 0) for d, h in zip(weekdays, hours, strict=True)]
    unevenness = _unevenness(keys, residuals)
    return Fit(intercept + seasonal, scale, slope, seasonal, spread, scale_up, scale_down, unevenness)


def _scale(residuals: Sequence[float]) -> float:
    """The residuals' robust standard deviation: MAD, else the mean absolute deviation when more than half the
    residuals are equal (a mostly constant series)."""
    centre = statistics.median(residuals)
    deviations = [abs(r - centre) for r in residuals]
    scale = MAD_TO_SIGMA * statistics.median(deviations)
    if scale == 0.0:
        scale = MEANAD_TO_SIGMA * statistics.fmean(deviations)
    return scale


def _unevenness(keys: Sequence[tuple[int, int]], residuals: Sequence[float]) -> float:
    """The variance of log(robust spread) over the seasonal groups (weekday, hour) with at least 3 points: 0 when
    every group is as noisy as the others. A count's weekend rows are fewer and vary less in rows, evenly on a log
    scale; a lag 24 h longer on Sundays varies as much in hours, evenly on the plain scale."""
    groups: dict[tuple[int, int], list[float]] = defaultdict(list)
    for key, r in zip(keys, residuals, strict=True):
        groups[key].append(r)
    logs = []
    for rs in groups.values():
        if len(rs) >= 3:
            centre = statistics.median(rs)
            spread = statistics.fmean(abs(r - centre) for r in rs)
            if spread > 0:
                logs.append(math.log(spread))
    return statistics.pvariance(logs) if len(logs) >= 2 else 0.0


def _tails(residuals: Sequence[float]) -> tuple[float, float]:
    """The scale each tail of the residuals implies: the distance from the median to the upper (lower) quartile over
    the normal distribution's. For even noise both are about the MAD's scale; for skewed noise (a load delay's long
    right tail) the long side's is larger."""
    centre = statistics.median(residuals)
    low, _median, high = statistics.quantiles(residuals, n=4)
    return (high - centre) * QUARTILE_TO_SIGMA, (centre - low) * QUARTILE_TO_SIGMA


def _tiny(ys: Sequence[float]) -> float:
    """A constant 0 history: any other value is a change. The scale only keeps the score finite."""
    return 1e-12 * max(1.0, max(abs(y) for y in ys))


def _several_a_day(xs: Sequence[float]) -> bool:
    gaps = [b - a for a, b in itertools.pairwise(xs) if b > a]
    return bool(gaps) and statistics.median(gaps) < 0.5


def _offsets(keys: Sequence[int], rest: Sequence[float]) -> dict[int, float]:
    """Median of the rest per key (keys seen MIN_KEY_POINTS times or more), centred so the offsets average 0."""
    groups: dict[int, list[float]] = defaultdict(list)
    for key, r in zip(keys, rest, strict=True):
        groups[key].append(r)
    medians = {key: statistics.median(rs) for key, rs in groups.items() if len(rs) >= MIN_KEY_POINTS}
    if not medians:
        return {}
    centre = statistics.fmean(medians.values())
    return {key: m - centre for key, m in medians.items()}


def _theil_sen(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Theil-Sen slope over one median per time bucket (a day, coarser for long windows): robust to up to ~29% of
    the buckets being outliers, and not quadratic in the number of points."""
    width = max(1.0, math.ceil((xs[-1] - xs[0] + 1) / MAX_TREND_BUCKETS))
    buckets: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for x, y in zip(xs, ys, strict=True):
        buckets[math.floor(x / width)].append((x, y))
    points = [
        (statistics.median(x for x, _ in b), statistics.median(y for _, y in b)) for _k, b in sorted(buckets.items())
    ]
    slopes = [(y2 - y1) / (x2 - x1) for i, (x1, y1) in enumerate(points) for x2, y2 in points[i + 1 :] if x2 > x1]
    return statistics.median(slopes) if slopes else 0.0


def _learning(n: int, reason: str) -> AnomalyJudgement:
    return AnomalyJudgement("learning", None, None, None, None, n, reason)


def _num(x: float) -> str:
    return f"{x:.4g}"
