"""anomaly: a metric judged against its own history in the results store, no cloud (indicators/detector.py's detector).

`metric` is any indicator measured in its dataset's scan (row_count - per period with `partition:` -, max_age as a
freshness lag, non_null_ratio as a null share, metric aggregates, ...): it is measured as itself, then judged against
the values it had at the SLO's earlier evaluations (kept with each result as `kept.value`), robust to outliers,
aware of weekly seasonality and trend. The observed value is the anomaly score: how many noise scales the value lies
from the expected one, in the watched direction (0 while learning). The threshold is the sensitivity:
`threshold: {max: 4.5}` flags a value more than 4.5 noise scales out; a warn level (`warn: {max: 3}`) warns earlier. The
expected value, the band at the threshold and the value itself are kept with each result (`kept`), exported
(dataslo_anomaly_*) and shown in the report.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from dagster_project.indicators.base import (
    Context,
    Definition,
    History,
    HistoryWanted,
    Indicator,
    Measured,
    Read,
    SpecContext,
)
from dagster_project.indicators.detector import AnomalySettings, judge
from dagster_project.indicators.durations import seconds
from dagster_project.indicators.lazy import exp

if TYPE_CHECKING:  # the spec model (pydantic) is read, never imported here
    from dagster_project.indicators.models.anomaly import Anomaly

DEFAULT_SENSITIVITY = AnomalySettings().sensitivity


@dataclass(frozen=True)
class AnomalyIndicator(Indicator):
    type: ClassVar[str] = "anomaly"
    metric: Indicator
    training_s: float = AnomalySettings().training_window_s
    min_history: int = 14
    seasonality: Literal["weekly", "daily", "none"] = "weekly"
    direction: Literal["both", "up", "down"] = "both"
    transform: Literal["auto", "none"] = "auto"
    sensitivity: float = DEFAULT_SENSITIVITY  # the SLO's threshold max (bound by the definition)

    def scan(self, ctx: Context) -> exp.Expr:
        return self.metric.scan(ctx)

    def reads(self, dataset: str) -> tuple[Read, ...]:
        return tuple(dataclasses.replace(r, field=("metric", *r.field)) for r in self.metric.reads(dataset))

    def missing_dataset(self, dataset: str) -> str:
        return self.metric.missing_dataset(dataset)

    def no_value(self, dataset: str) -> str:
        return self.metric.no_value(dataset)

    def settings(self) -> AnomalySettings:
        return AnomalySettings(
            training_window_s=self.training_s,
            min_history=self.min_history,
            sensitivity=self.sensitivity,
            seasonality=self.seasonality,
            direction=self.direction,
            transform=self.transform,
        )

    def history_wanted(self) -> HistoryWanted:
        return HistoryWanted(last=None, window_s=self.training_s)

    def judge(self, measured: Measured, history: History, as_of: datetime) -> Measured:
        value = measured.value
        if value is None:
            return measured
        if not history.available:
            return Measured(
                None,
                error="no results store to learn from: an anomaly is judged against the metric's own history "
                "(record results with --results)",
            )
        at = as_of if as_of.tzinfo is not None else as_of.replace(tzinfo=UTC)
        series = [
            (p.evaluated_at, float(p.kept["value"]))
            for p in history.evaluations
            if isinstance(p.kept.get("value"), int | float) and p.evaluated_at < at
        ]
        verdict = judge(series, at, value, self.settings())
        kept: dict[str, Any] = {"value": value, "verdict": verdict.verdict}
        if verdict.verdict == "learning" or verdict.score is None:
            return Measured(0.0, f"{verdict.reason}; value {value:g}", kept)
        kept |= {"expected": verdict.expected, "low": verdict.low, "high": verdict.high, "score": verdict.score}
        detail = (
            f"{verdict.verdict}: {value:g} against {verdict.expected:g} expected "
            f"({verdict.low:g}..{verdict.high:g}), score {verdict.score:+.1f} over {verdict.history_points} points"
        )
        return Measured(_directed(verdict.score, self.direction), detail, kept)


def _directed(score: float, direction: str) -> float:
    """The score in the watched direction: how far out, 0 on the side that is not watched."""
    if direction == "up":
        return max(0.0, score)
    if direction == "down":
        return max(0.0, -score)
    return abs(score)


def _domain(model: Anomaly, ctx: SpecContext) -> Indicator:
    from dagster_project.indicators.registry import definition  # the registry imports this module

    return AnomalyIndicator(
        metric=definition(model.metric.type).from_spec(model.metric, ctx),
        training_s=seconds(model.training),
        min_history=model.min_history,
        seasonality=model.seasonality,
        direction=model.direction,
        transform=model.transform,
    )


def _bind(indicator: Indicator, _low: float | None, high: float | None) -> Indicator:
    assert isinstance(indicator, AnomalyIndicator)
    return indicator if high is None else dataclasses.replace(indicator, sensitivity=high)


def _threshold_rule(low: float | str | None, high: float | str | None) -> str | None:
    if low is not None or high is None or isinstance(high, str) or high <= 0:
        return "an anomaly's threshold is its sensitivity: give only max, a number above 0 (e.g. {max: 4.5})"
    return None


DEFINITION = Definition(
    "anomaly",
    AnomalyIndicator,
    unit="number",
    measured="scan",
    gx_reason="it is judged against its own history in the results store",
    to_domain=_domain,
    history=True,
    bind=_bind,
    threshold_rule=_threshold_rule,
)
