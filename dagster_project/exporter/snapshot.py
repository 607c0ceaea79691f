"""One snapshot of every exported value, computed from the spec, the results history and the published data
product, as prometheus-client metric families. Names come from exporter/names.py; the math from slo/budget.py
(and the history's indexed equivalents).

The time SLI (exact for freshness) drives attainment, budgets and "objective met"; the occurrence SLI is exported
beside it (method label). Windows end at `now`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric

from dagster_project.engines.measures import MeasureValue
from dagster_project.exporter import names as n
from dagster_project.exporter.history import OUTCOMES, History, SloHistory
from dagster_project.slo import alert_windows
from dagster_project.slo.budget import Budget, Share, budget, share_meeting
from dagster_project.slo.domain import Slo
from dagster_project.spec.models import SpecFile


@dataclass(frozen=True)
class WindowSli:
    time: float | None
    occurrences: float | None
    good_evaluations: int
    evaluations: int


def window_sli(slo: Slo, history: SloHistory, window_s: float, now: float) -> WindowSli:
    start = now - window_s
    good, total = history.occurrence(start, now)
    if slo.kind == "max_age":
        time_sli = history.freshness(slo.threshold.value, start, now)
    else:
        good_time, known = history.time(start, now)
        time_sli = good_time / known if known > 0 else None
    return WindowSli(time_sli, good / total if total else None, good, total)


def _family(metric: n.Metric) -> Metric:
    labels = list(metric.labels)
    if metric.kind == "counter":
        return CounterMetricFamily(metric.name, metric.help, labels=labels)
    if metric.kind == "info":
        return InfoMetricFamily(metric.name, metric.help, labels=labels)
    return GaugeMetricFamily(metric.name, metric.help, labels=labels)


class Families:
    """Metric families by name, filled as values are added; empty families are still exported (HELP/TYPE)."""

    def __init__(self) -> None:
        self.by_name: dict[str, Metric] = {m.name: _family(m) for m in n.ALL}

    def add(self, metric: n.Metric, labels: Sequence[str], value: float) -> None:
        self.by_name[metric.name].add_metric(list(labels), value)  # type: ignore[attr-defined]

    def info(self, metric: n.Metric, labels: Sequence[str]) -> None:
        family = self.by_name[metric.name]
        assert isinstance(family, InfoMetricFamily)
        family.add_metric(list(labels), {})

    def all(self) -> list[Metric]:
        return list(self.by_name.values())


def slo_families(families: Families, slos: Sequence[Slo], history: History, now: float) -> None:
    per_group: dict[tuple[str, str, str], list[Budget | None]] = {}
    adherence: dict[tuple[str, str, str], list[int]] = {}
    last_update: dict[tuple[str, str], float] = {}
    for slo in slos:
        ids = (slo.product, slo.id)
        families.info(
            n.SLO_INFO,
            [*ids, slo.dimension, slo.dataset, slo.kind, slo.severity, slo.protects[0], slo.protects[1]],
        )
        families.add(n.OBJECTIVE, ids, slo.objective)
        families.add(n.THRESHOLD, [*ids, slo.threshold.bound], slo.threshold.value)
        h = history.slos.get(slo.id, SloHistory())
        for outcome in OUTCOMES:
            families.add(n.EVALUATIONS, [*ids, outcome], h.totals[outcome])
        k = h.latest(now)
        if k is not None:
            passed, observed = h.passed[k], h.observed[k]
            families.add(n.CHECK_PASSED, ids, 1.0 if passed else 0.0)
            families.add(n.CHECK_ERROR, ids, 1.0 if passed is None else 0.0)
            families.add(n.LAST_EVALUATION, ids, h.at[k])
            if observed is not None:
                families.add(n.OBSERVED, ids, observed)
                if slo.kind == "max_age":  # the data as the latest check saw it (after a rollback, older)
                    key = (slo.product, slo.dataset)
                    update = h.at[k] - observed
                    last_update[key] = max(last_update.get(key, update), update)
                if slo.kind == "build_duration":
                    families.add(n.BUILD_DURATION, [slo.product], observed)
        for alert_window_s in alert_windows.windows(slo):  # what the generated burn-rate rules read
            error_sli = window_sli(slo, h, alert_window_s, now).time
            if error_sli is not None:
                families.add(n.SLI_ERROR, [*ids, n.window_label(alert_window_s)], 1.0 - error_sli)
        for window_s in slo.windows_s:
            window = n.window_label(window_s)
            sli = window_sli(slo, h, window_s, now)
            b = None
            if sli.time is not None:
                b = budget(sli.time, slo.objective)
                families.add(n.ATTAINMENT, [*ids, window, "time"], sli.time)
                families.add(n.BUDGET_REMAINING, [*ids, window], b.remaining)
                families.add(n.OBJECTIVE_MET, [*ids, window], 1.0 if b.met else 0.0)
            if sli.occurrences is not None:
                families.add(n.ATTAINMENT, [*ids, window, "occurrences"], sli.occurrences)
            for dimension in (slo.dimension, "all"):
                per_group.setdefault((slo.product, dimension, window), []).append(b)
                counts = adherence.setdefault((slo.product, dimension, window), [0, 0])
                counts[0] += sli.good_evaluations
                counts[1] += sli.evaluations
    for (product, dataset), when in sorted(last_update.items()):
        families.add(n.DATASET_LAST_UPDATE, [product, dataset], when)
    for group, budgets in sorted(per_group.items()):
        share = share_meeting(budgets).ratio
        if share is not None:
            families.add(n.SHARE_MEETING, group, share)
    for group, (good, total) in sorted(adherence.items()):
        ratio = Share(good, total).ratio
        if ratio is not None:
            families.add(n.ADHERENCE, group, ratio)


def product_families(
    families: Families, specs: Iterable[SpecFile], measures: Mapping[str, Mapping[str, MeasureValue]]
) -> None:
    """North Star and goals; `measures` is product id -> measure name -> value (missing when not computed)."""
    for spec in specs:
        product = spec.data_product.id
        values = measures.get(product, {})
        star = spec.north_star
        families.add(n.NORTH_STAR_TARGET, [product, star.measure], star.target)
        star_value = values.get(star.measure)
        if star_value is not None and star_value.value is not None:
            families.add(n.NORTH_STAR_VALUE, [product, star.measure], star_value.value)
        for goal in spec.data_product.goals:
            target = goal.target
            bound, value = ("min", target.min) if target.min is not None else ("max", target.max)
            families.add(n.GOAL_TARGET, [product, goal.id, target.measure, bound], float(value or 0.0))
            actual = values.get(target.measure)
            if actual is not None and actual.value is not None:
                families.add(n.GOAL_ACTUAL, [product, goal.id, target.measure], actual.value)
