"""Normalised SLOs: what the engines and the decision need, with units resolved (durations in seconds).

The wire spec (spec/models.py) keeps what a user wrote; this is what it means. The mapper (slo/from_spec.py) is the
only place that knows both: nothing here imports pydantic, so remembered SLOs are read back and evaluated without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from dagster_project.indicators.base import Indicator, Unit
from dagster_project.indicators.registry import Definition, definition
from dagster_project.spec.durations import parse_duration
from dagster_project.spec.terms import DEFAULT_QUERY_TIMEOUT, AlertLevel

if TYPE_CHECKING:  # a spec's server is a pydantic model, read back with the SLO only when the spec names one
    from dagster_project.spec.server import Server

Bound = Literal["min", "max"]
Severity = Literal["warn", "error"]
DEFAULT_TIMEOUT_S = parse_duration(DEFAULT_QUERY_TIMEOUT).total_seconds()


@dataclass(frozen=True)
class Threshold:
    """The bounds a value must respect (seconds for durations): a minimum, a maximum or both (between, inclusive)."""

    min: float | None = None
    max: float | None = None

    def __post_init__(self) -> None:
        if self.min is None and self.max is None:
            raise ValueError("a threshold needs a min, a max or both")

    @classmethod
    def of(cls, bound: Bound, value: float) -> Threshold:
        return cls(min=value) if bound == "min" else cls(max=value)

    @property
    def bound(self) -> Bound:
        """The first bound (min when there are both): what the store's `bound` column keeps."""
        return "min" if self.min is not None else "max"

    @property
    def value(self) -> float:
        """The first bound's value (the store's `threshold` column)."""
        value = self.min if self.min is not None else self.max
        assert value is not None
        return value

    @property
    def upper(self) -> float | None:
        """The max of a between threshold (the store's `threshold_max`); None for one bound."""
        return self.max if self.min is not None else None

    @property
    def bounds(self) -> tuple[tuple[Bound, float], ...]:
        out: list[tuple[Bound, float]] = []
        if self.min is not None:
            out.append(("min", self.min))
        if self.max is not None:
            out.append(("max", self.max))
        return tuple(out)

    def describe(self, unit: Unit) -> str:
        if self.min is not None and self.max is not None:
            return f"{format_value(self.min, unit)}..{format_value(self.max, unit)}"
        op = ">=" if self.bound == "min" else "<="
        return f"{op} {format_value(self.value, unit)}"

    def as_record(self) -> dict[str, float | str | None]:
        """The record's form (slo/report.py): the first bound and its value, and min/max as given."""
        return {"bound": self.bound, "value": self.value, "min": self.min, "max": self.max}


@dataclass(frozen=True)
class RowFilter:
    """The rows an SLO judges (spec: where, partition): those matching `where` (SQL in `dialect`, the product's
    engine's) and, with a partition, those whose `column` is at most `last_s` seconds before the evaluation time."""

    where: str | None = None
    dialect: str = "duckdb"
    column: str | None = None
    last_s: float | None = None

    def slice_start(self, as_of: datetime) -> datetime | None:
        """The oldest instant of the partition at `as_of` (naive UTC); None without a partition."""
        return None if self.last_s is None else as_of - timedelta(seconds=self.last_s)


@dataclass(frozen=True)
class SampleKeys:
    """Which failing rows to keep (spec: samples): up to `limit`, first by `keys`; the keys in `masked` are PII
    (spec: pii_columns), never selected and shown as ***."""

    keys: tuple[str, ...]
    limit: int
    masked: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Slo:
    id: str
    product: str
    dimension: str
    dataset: str
    indicator: Indicator  # its typed domain form (indicators/<type>.py); durations in seconds
    threshold: Threshold  # the error level (warn SLOs: their one level): budgets and alerts follow it
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
    # A warn level inside the threshold (error SLOs only, spec: warn): meeting the threshold but not this is a warning,
    # shown everywhere, costing no budget.
    warn: Threshold | None = None
    # Only some rows are judged (spec: where, partition); None: every row of the dataset.
    filter: RowFilter | None = None
    # Each group of rows judged on its own (spec: group_by, max_groups): the worst group decides.
    group_by: tuple[str, ...] = ()
    max_groups: int = 0
    # Keep the keys of a few failing rows with each result (spec: samples); None: none.
    samples: SampleKeys | None = None

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
