"""One snapshot of every exported value, computed from the spec, the results history and the published data
product, as prometheus-client metric families. Names come from exporter/names.py; every number from
slo/attainment.py, the same objects the report renders.

The time SLI (exact for freshness) drives attainment, budgets and "objective met"; the occurrence SLI is exported
beside it (method label). Windows end at `now`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric

from dagster_project.engines.measures import MeasureValue
from dagster_project.exporter import names as n
from dagster_project.exporter.history import History
from dagster_project.slo import alert_windows
from dagster_project.slo.attainment import (
    AGE_INDICATORS,
    OUTCOMES,
    SloHistory,
    error_ratio,
    group_figures,
    product_figures,
)
from dagster_project.slo.domain import Slo
from dagster_project.spec.models import SpecFile


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


def _anomaly(families: Families, ids: tuple[str, str], kept: Mapping[str, object]) -> None:
    """An anomaly SLO's latest value, expected value and band (indicators/anomaly.py keeps them), for Grafana."""
    for metric, key in ((n.ANOMALY_VALUE, "value"), (n.ANOMALY_EXPECTED, "expected")):
        value = kept.get(key)
        if isinstance(value, int | float):
            families.add(metric, ids, float(value))
    for bound, key in (("min", "low"), ("max", "high")):
        value = kept.get(key)
        if isinstance(value, int | float):
            families.add(n.ANOMALY_BAND, [*ids, bound], float(value))


def slo_families(families: Families, slos: Sequence[Slo], history: History, now: float) -> None:
    figures = product_figures(slos, history.slos, now)
    last_update: dict[tuple[str, str], float] = {}
    extras = history.extras_at((slo.id for slo in slos), now)
    for f in figures:
        slo = f.slo
        ids = (slo.product, slo.id)
        families.info(
            n.SLO_INFO,
            [*ids, slo.dimension, slo.dataset, slo.kind, slo.severity, slo.protects[0], slo.protects[1]],
        )
        families.add(n.OBJECTIVE, ids, slo.objective)
        for bound, value in slo.threshold.bounds:
            families.add(n.THRESHOLD, [*ids, bound], value)
        for bound, value in slo.warn.bounds if slo.warn is not None else ():
            families.add(n.WARN_THRESHOLD, [*ids, bound], value)
        h = history.slos.get(slo.id, SloHistory())
        for outcome in OUTCOMES:
            families.add(n.EVALUATIONS, [*ids, outcome], h.totals[outcome])
        groups, kept = extras.get(slo.id, ((), {}))
        for label, group_value in groups[: slo.max_groups]:  # bounded by the spec, whatever the store holds
            if group_value is not None:
                families.add(n.GROUP_OBSERVED, [*ids, label], group_value)
        _anomaly(families, ids, kept)
        if f.latest is not None:
            passed, observed = f.latest.passed, f.latest.observed
            families.add(n.CHECK_PASSED, ids, 1.0 if passed else 0.0)
            families.add(n.CHECK_ERROR, ids, 1.0 if passed is None else 0.0)
            families.add(n.CHECK_WARNING, ids, 1.0 if f.latest.warned else 0.0)
            families.add(n.LAST_EVALUATION, ids, f.latest.at)
            if observed is not None:
                families.add(n.OBSERVED, ids, observed)
                if slo.kind in AGE_INDICATORS:  # the data as the latest check saw it (after a rollback, older)
                    key = (slo.product, slo.dataset)
                    update = f.latest.at - observed
                    last_update[key] = max(last_update.get(key, update), update)
                if slo.definition.about_the_build:
                    families.add(n.BUILD_DURATION, [slo.product], observed)
        for alert_window_s in alert_windows.windows(slo):  # what the generated burn-rate rules read
            ratio = error_ratio(slo, h, alert_window_s, now)
            if ratio is not None:
                families.add(n.SLI_ERROR, [*ids, n.window_label(alert_window_s)], ratio)
        for w in f.windows:
            window = n.window_label(w.window_s)
            if w.budget is not None:
                families.add(n.ATTAINMENT, [*ids, window, "time"], w.budget.sli)
                families.add(n.BUDGET_REMAINING, [*ids, window], w.budget.remaining)
                families.add(n.OBJECTIVE_MET, [*ids, window], 1.0 if w.budget.met else 0.0)
            if w.occurrence_sli is not None:
                families.add(n.ATTAINMENT, [*ids, window, "occurrences"], w.occurrence_sli)
    for (product, dataset), when in sorted(last_update.items()):
        families.add(n.DATASET_LAST_UPDATE, [product, dataset], when)
    for (product, dimension, window_s), group in group_figures(figures).items():
        labels = (product, dimension, n.window_label(window_s))
        if group.meeting.ratio is not None:
            families.add(n.SHARE_MEETING, labels, group.meeting.ratio)
        if group.adherence.ratio is not None:
            families.add(n.ADHERENCE, labels, group.adherence.ratio)


def product_families(
    families: Families, specs: Iterable[SpecFile], measures: Mapping[str, Mapping[str, MeasureValue]]
) -> None:
    """North Star and goals, for the products that declare them; `measures` is product id -> measure name -> value
    (missing when not computed)."""
    for spec in specs:
        product = spec.data_product.id
        values = measures.get(product, {})
        star = spec.north_star
        if star is not None:
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
