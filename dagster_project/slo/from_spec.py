"""The mapper: a validated spec (spec/models.py, what a user wrote) to its normalised SLOs (slo/domain.py, what it
means), with units resolved (durations in seconds) and each indicator in its domain form (Definition.from_spec)."""

from __future__ import annotations

from collections.abc import Sequence

from dagster_project.indicators.base import Indicator, SpecContext
from dagster_project.indicators.registry import definition
from dagster_project.slo.domain import RowFilter, SampleKeys, Slo, Threshold
from dagster_project.spec.durations import parse_duration
from dagster_project.spec.models import Slo as SpecSlo
from dagster_project.spec.models import SpecFile
from dagster_project.spec.models import Threshold as SpecThreshold
from dagster_project.spec.terms import AlertLevel


def _seconds(value: float | str) -> float:
    return parse_duration(value).total_seconds() if isinstance(value, str) else float(value)


def _threshold(spec: SpecThreshold) -> Threshold:
    return Threshold(
        min=None if spec.min is None else _seconds(spec.min), max=None if spec.max is None else _seconds(spec.max)
    )


def _filter(slo: SpecSlo, spec: SpecFile) -> RowFilter | None:
    if slo.where is None and slo.partition is None:
        return None
    part = slo.partition
    return RowFilter(
        where=slo.where,
        dialect=spec.server.type if spec.server is not None else "duckdb",
        column=None if part is None else part.column,
        last_s=None if part is None else _seconds(part.last),
    )


def _samples(slo: SpecSlo, spec: SpecFile) -> SampleKeys | None:
    if slo.samples is None:
        return None
    pii = set(spec.pii_columns.get(slo.dataset, ()))
    keys = tuple(slo.samples.keys)
    return SampleKeys(keys, slo.samples.limit, frozenset(k for k in keys if k in pii))


def _indicator(slo: SpecSlo, context: SpecContext) -> Indicator:
    """The SLO's indicator in its domain form, given its threshold when its type judges by it (Definition.bind)."""
    d = definition(slo.indicator.type)
    indicator = d.from_spec(slo.indicator, context)
    if d.bind is None:
        return indicator
    threshold = _threshold(slo.threshold)
    return d.bind(indicator, threshold.min, threshold.max)


def slos_from_spec(spec: SpecFile) -> list[Slo]:
    context = SpecContext({q.id: q.sql for q in spec.consumer_queries})
    card = spec.data_product
    out = []
    for s in spec.slos:
        protects = (
            ("data_product", card.id)
            if s.protects is None
            else ("goal", s.protects.goal)
            if s.protects.goal
            else ("use_case", str(s.protects.use_case))
        )
        alert: AlertLevel = s.alert or ("page" if s.severity == "error" else card.alerting.warn)
        out.append(
            Slo(
                id=s.id,
                product=spec.data_product.id,
                dimension=s.dimension,
                dataset=s.dataset,
                indicator=_indicator(s, context),
                threshold=_threshold(s.threshold),
                severity=s.severity,
                objective=s.objective,
                windows_s=tuple(_seconds(w) for w in s.windows),
                protects=protects,
                alert=alert,
                owner=card.owner,
                labels=tuple(sorted({**card.labels, **s.labels}.items())),
                runbook_url=s.runbook_url or card.runbook_url,
                timeout_s=_seconds(s.timeout),
                server=spec.server,
                warn=None if s.warn is None else _threshold(s.warn),
                filter=_filter(s, spec),
                group_by=tuple(s.group_by or ()),
                max_groups=s.max_groups or 0,
                samples=_samples(s, spec),
            )
        )
    return out


def all_slos(specs: Sequence[SpecFile]) -> list[Slo]:
    return [slo for spec in specs for slo in slos_from_spec(spec)]
