"""Normalised SLOs: what the engines and the decision need, with units resolved (durations in seconds).

The wire spec (spec/models.py) keeps what a user wrote; this is what it means. The mapper is the only place that
knows both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from dagster_project.indicators.base import Indicator, SpecContext
from dagster_project.indicators.registry import Definition, definition
from dagster_project.spec.durations import parse_duration
from dagster_project.spec.models import DEFAULT_QUERY_TIMEOUT, AlertLevel, SpecFile, Unit
from dagster_project.spec.server import Server

Bound = Literal["min", "max"]
Severity = Literal["warn", "error"]
DEFAULT_TIMEOUT_S = parse_duration(DEFAULT_QUERY_TIMEOUT).total_seconds()


@dataclass(frozen=True)
class Threshold:
    bound: Bound
    value: float  # seconds for durations

    def describe(self, unit: Unit) -> str:
        op = ">=" if self.bound == "min" else "<="
        return f"{op} {format_value(self.value, unit)}"


@dataclass(frozen=True)
class Slo:
    id: str
    product: str
    dimension: str
    dataset: str
    indicator: Indicator  # its typed domain form (indicators/<type>.py); durations in seconds
    threshold: Threshold
    severity: Severity
    objective: float
    windows_s: tuple[float, ...]
    protects: tuple[str, str]  # ("goal" | "use_case" | "data_product", id); the product when the spec names none
    # Alert routing (generated rules): the most its burn raises (None: page for error, ticket for warn), the owning
    # team, the spec's labels (the product's, overridden by the SLO's) and its runbook.
    alert: AlertLevel | None = None
    owner: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    runbook_url: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S  # the longest any one query evaluating it may run (spec: timeout)
    # Where its product's data lives (spec: server); None: the deployment's DuckDB. Not part of equality or the hash
    # (a Spark server's conf is a mapping): an SLO is its product's and id's.
    server: Server | None = field(default=None, compare=False)

    @property
    def kind(self) -> str:
        """The indicator's type name, as results records and the store keep it."""
        return self.indicator.type

    @property
    def definition(self) -> Definition:
        return definition(self.indicator.type)

    @property
    def unit(self) -> Unit:
        return self.definition.unit_of(self.indicator)


def format_value(value: float | None, unit: Unit) -> str:
    if value is None:
        return "-"
    if unit == "duration":
        if value < 1:
            return f"{value * 1000:.0f}ms"
        if value < 120:
            return f"{value:.1f}s"
        if value < 7200:
            return f"{value / 60:.1f}m"
        return f"{value / 3600:.1f}h"
    if unit == "ratio":
        return f"{value:.4f}"
    return f"{value:g}"


def _seconds(value: float | str) -> float:
    return parse_duration(value).total_seconds() if isinstance(value, str) else float(value)


def slos_from_spec(spec: SpecFile) -> list[Slo]:
    context = SpecContext({q.id: q.sql for q in spec.consumer_queries})
    card = spec.data_product
    out = []
    for s in spec.slos:
        bound: Bound = "min" if s.threshold.min is not None else "max"
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
                indicator=definition(s.indicator.type).from_spec(s.indicator, context),
                threshold=Threshold(bound, _seconds(s.threshold.bound)),
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
            )
        )
    return out


def all_slos(specs: Sequence[SpecFile]) -> list[Slo]:
    return [slo for spec in specs for slo in slos_from_spec(spec)]
