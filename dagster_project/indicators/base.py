"""What an indicator type declares: one module per type in this package, one entry in registry.py.

A type gives its spec model (pydantic, what a YAML file may say: indicators/models/<type>.py, imported at its first
use, so that the domain forms and their evaluation load no pydantic), its typed domain form (a frozen dataclass,
durations in seconds), its unit, how it is measured (one aggregate fused into its dataset's scan, a query of its own,
the catalog, free SQL, or timed runs of a consumer query), what it reads (so validation and errors can name the
missing table or column), its Great Expectations mapping where one exists, and the engines that can run it.
Nothing outside the indicator's module branches on its name.
"""

from __future__ import annotations

import builtins
import functools
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from dagster_project.indicators.lazy import exp

if TYPE_CHECKING:
    from pydantic import BaseModel

# ratio: a share, 0..1 unless the type is `unbounded`; duration: seconds, bounds written as durations; count: a
# whole number, never negative; number: any real number (a sum, an average, a percentile of a column's values).
Unit = Literal["ratio", "duration", "count", "number"]
# How an indicator is measured, which is all the evaluator needs to know of it:
# scan: one aggregate over its dataset, fused with the dataset's other scan indicators into one query;
# query: a query of its own (dialect-neutral tree);
# catalog: from the engine's catalog (column names and types), no query over the data;
# free_sql: SQL written in the spec, validated as one read-only SELECT in the engine's dialect, then run;
# timed: a consumer query (free SQL) run several times and timed.
Measurement = Literal["scan", "query", "catalog", "free_sql", "timed"]
ENGINES = frozenset({"duckdb", "postgres", "spark"})
# What an indicator needs of a column's type ("any": only that it exists; "key": comparable with its other keys).
Need = Literal["number", "time", "any", "key"]
Field = tuple[str | int, ...]  # a path under the indicator in the spec, e.g. ("columns", 1)


@dataclass(frozen=True)
class Read:
    """One column an indicator reads, the type family it needs and where the spec names it."""

    dataset: str
    column: str
    need: Need = "any"
    field: Field = ()
    dataset_field: Field = ()  # where the dataset is named under the indicator (() : the SLO's own `dataset`)
    implicit: bool = False  # a table of ours the spec does not name (the build log): not the spec's to validate


@dataclass(frozen=True)
class Context:
    """What a measurement may depend on besides the indicator: its dataset, the evaluation time (naive UTC) and the
    dataset's text columns (from the engine's catalog)."""

    dataset: str
    as_of: datetime
    text_columns: tuple[str, ...] = ()
    # The rows the SLO judges (its where/partition as one condition; None: every row): a failing-row condition that
    # looks at other rows of the dataset (duplicated keys) looks only at these.
    rows: exp.Expr | None = None


# --- history: an SLO's own earlier evaluations, from the results store -------------------------------------------


@dataclass(frozen=True)
class HistoryWanted:
    """How much of its own history an indicator needs: at most the `last` evaluations (None: no count limit), of
    those within `window_s` seconds before the evaluation time (None: no time limit). Only evaluations that had an
    observed value are history (an error result is not)."""

    last: int | None = 1
    window_s: float | None = None


@dataclass(frozen=True)
class Previous:
    """One earlier evaluation of the same SLO: when it speaks for (aware UTC), its observed value, its status
    (ok | warn | FAIL) and what its indicator kept for the next ones (`Measured.kept`)."""

    evaluated_at: datetime
    observed: float
    status: str | None
    kept: Mapping[str, Any]


@dataclass(frozen=True)
class History:
    """An SLO's earlier evaluations, oldest first, as its indicator asked (HistoryWanted). `available` is false when
    there is no results store to read (e.g. `slo check --no-record` before any store exists): nothing is known,
    which is not the same as a first run (available, no evaluations)."""

    evaluations: tuple[Previous, ...] = ()
    available: bool = True

    @property
    def last(self) -> Previous | None:
        return self.evaluations[-1] if self.evaluations else None


NO_STORE = History(available=False)


@dataclass(frozen=True)
class Measured:
    """A measurement as an indicator judged by its history sees it, and returns it: the observed value, the detail
    for people and what this evaluation keeps in the store for the next ones (JSON-able; the record's `kept`)."""

    value: float | None
    detail: str | None = None
    kept: Mapping[str, Any] = dataclass_field(default_factory=dict)
    error: str | None = None  # why there is no value (an error result)


# --- Great Expectations: plain data, no GX import (it costs seconds) ------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One expectation: its GX class name and arguments. `not_null_first` becomes GX's row_condition (the listed
    columns are not null), kept as plain names so no GX objects are needed here."""

    expectation: str
    kwargs: dict[str, Any]
    not_null_first: tuple[str, ...] = ()


Cast = Literal["as_is", "VARCHAR", "DOUBLE", "key"]


@dataclass(frozen=True)
class BatchColumn:
    """A column of the snapshot GX reads, and how it is made from the dataset's columns, so that GX compares what
    the native engine compares: text as DuckDB spells it (patterns, sets of strings), numbers as DOUBLE (sets of
    numbers), a compound key as one value (null when any part is, else a JSON array of the parts). A cast column keeps
    the dataset column's name (`name` is the column's own), so suites and Data Docs show the table's real columns."""

    name: str
    source: tuple[str, ...]
    cast: Cast = "as_is"


class MissingResult(ValueError):
    """GX returned a result without the numbers the SLO needs: the silent failure of GX's SQL path on DuckDB looks
    exactly like this (success False, no counts), so it is an error, never a failed check."""


def gx_count(result: Mapping[str, Any], key: str) -> int:
    value = result.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise MissingResult(f"GX returned no {key}")
    return value


def gx_share_met(result: Mapping[str, Any], nulls: str = "ignore") -> float:
    """Share of the non-missing values GX found as expected; 1.0 when there are none (as natively). With
    nulls="fail", the share of all values (GX skips missing values, so they are counted back as violations); GX's
    own `mostly` still judges the present values only."""
    rows, missing = gx_count(result, "element_count"), gx_count(result, "missing_count")
    if nulls == "fail":
        return (rows - missing - gx_count(result, "unexpected_count")) / rows if rows else 1.0
    judged = rows - missing
    return 1.0 - gx_count(result, "unexpected_count") / judged if judged else 1.0


@dataclass(frozen=True)
class GxBound:
    """What a GX mapping needs of the SLO's threshold: GX's `mostly`, and the minimum when the bound is one."""

    mostly: float
    minimum: float | None


# --- the domain form ------------------------------------------------------------------------------------------------


class Indicator:
    """Base of every indicator's domain form. Each type overrides what its measurement needs."""

    type: ClassVar[str]

    def scan(self, ctx: Context) -> exp.Expr:
        """One aggregate over ctx.dataset (measurement 'scan')."""
        raise TypeError(f"{self.type} is not a scan indicator")

    def query(self, ctx: Context) -> exp.Query:
        """The query giving the observed value in its first row and column (measurement 'query')."""
        raise TypeError(f"{self.type} has no query of its own")

    def failing_rows(self, ctx: Context) -> exp.Expr | None:
        """A condition true for each row of ctx.dataset that fails the indicator (columns unqualified, the dataset
        unaliased), for the failed-row samples (slo/samples.py); None: the type judges no single row."""
        return None

    def rows_fail(self, observed: float) -> bool:
        """Whether the observed value says some row fails, so samples are worth a query: a share of rows that pass
        below 1 (a type counting failing rows overrides it)."""
        return observed < 1.0

    def reads(self, dataset: str) -> tuple[Read, ...]:
        """The columns it reads: validation checks them against the catalog, the evaluator names a missing one."""
        return ()

    def missing_dataset(self, dataset: str) -> str:
        return f"dataset {dataset} does not exist"

    def no_value(self, dataset: str) -> str:
        """Why a null observed value is no value at all."""
        return f"no value: {dataset} has no rows to judge"

    def free_sql(self) -> str:
        """The SQL written in the spec (measurements 'free_sql' and 'timed'), run as written in the engine's dialect."""
        raise TypeError(f"{self.type} runs no SQL of the spec's")

    def timed_runs(self) -> int:
        """How many times its consumer query is run and timed (measurement 'timed')."""
        raise TypeError(f"{self.type} is not timed")

    def from_runs(self, timings: list[float], failures: int) -> tuple[float | None, str | None]:
        """The observed value (or why there is none) from the timings of the runs that succeeded and the number that
        failed (measurement 'timed')."""
        raise TypeError(f"{self.type} is not timed")

    def from_catalog(self, actual: Mapping[str, str], same_type: Callable[[str, str], bool]) -> Measured:
        """The observed value, a detail for people and what to keep, from the dataset's columns (name -> the
        engine's type) and the engine's comparison of a spec's type name with a column's type (measurement
        'catalog')."""
        raise TypeError(f"{self.type} is not read from the catalog")

    def history_wanted(self) -> HistoryWanted:
        """How much of its own history it needs (types with Definition.history)."""
        return HistoryWanted()

    def judge(self, measured: Measured, history: History, as_of: datetime) -> Measured:
        """The measurement at `as_of` (naive UTC) judged against the SLO's own earlier evaluations (types with
        Definition.history): run after every measurement that gave a value, whatever the measurement; returns what
        is recorded."""
        raise TypeError(f"{self.type} is not judged against its history")

    def gx_refusal(self) -> str | None:
        """Why GX cannot express this SLO although its type has a GX mapping (an option the mapping lacks); None
        when it can."""
        return None

    def gx_parts(self, bound: GxBound) -> tuple[tuple[Part, ...], tuple[BatchColumn, ...]]:
        raise TypeError(f"{self.type} has no GX mapping")

    def gx_observed(self, results: Sequence[Mapping[str, Any]]) -> float:
        raise TypeError(f"{self.type} has no GX mapping")


def _plain(model: BaseModel) -> dict[str, Any]:
    """A model's fields as plain values, nested models as dicts: model_dump's answer, read without building the
    model's serializer (deferred, indicators/fields.py Strict: a spec remembered by an earlier command has none yet).
    A model is known by its class's `model_fields` (pydantic's), so this module needs no pydantic."""
    return {name: _plain_value(getattr(model, name)) for name in type(model).model_fields}


def _plain_value(value: Any) -> Any:
    if isinstance(getattr(type(value), "model_fields", None), dict):
        return _plain(value)
    if isinstance(value, list | tuple):
        return type(value)(_plain_value(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain_value(v) for k, v in value.items()}
    return value


def read_columns(dataset: str, columns: Sequence[str], need: Need = "any", name: str = "columns") -> tuple[Read, ...]:
    return tuple(Read(dataset, c, need, (name, j)) for j, c in enumerate(columns))


@dataclass(frozen=True)
class SpecContext:
    """What turning a spec model into its domain form may need beyond the model: the spec's consumer queries."""

    queries: Mapping[str, str]


@dataclass(frozen=True)
class Definition:
    """One indicator type. `to_domain` turns the spec model into the domain form (default: its fields, as they are);
    the spec model itself is `model`, from indicators/models/<type>.py."""

    type: str
    domain: builtins.type[Indicator]
    unit: Unit  # with declared_unit: the default when the spec declares none
    measured: Measurement
    engines: frozenset[str] = ENGINES
    not_on: str = ""  # why the other engines cannot run it (validation's message)
    gx_reason: str | None = None  # why GX cannot express it; None when it has a GX mapping
    unbounded: bool = False  # a ratio that may exceed 1 (its bound is only never negative)
    age: bool = False  # the observed value is the age of the data, which keeps growing after the check
    # It measures the product's build, not a dataset: checked with the publish step, exported as the build duration.
    about_the_build: bool = False
    to_domain: Callable[[Any, SpecContext], Indicator] | None = None
    # The spec declares the observed value's unit (its `unit` field, also a field of the domain form): an absolute
    # metric or custom SQL may measure a count, a duration in seconds or any number.
    declared_unit: bool = False
    # Judged against the SLO's own earlier evaluations in the results store (Indicator.history_wanted, .judge): the
    # caller reads them, in one query for all such SLOs, before evaluation; the engines never open the store.
    history: bool = False
    # The domain form given its SLO's threshold (min, max; seconds for durations), for an indicator whose judgement
    # depends on it (anomaly: its band is drawn at the threshold); None: the threshold is the decision's alone.
    bind: Callable[[Indicator, float | None, float | None], Indicator] | None = None
    # What is wrong with a threshold's bounds (min, max as written) for this type beyond its unit, or None.
    threshold_rule: Callable[[float | str | None, float | str | None], str | None] | None = None

    def unit_of(self, indicator: Indicator | BaseModel) -> Unit:
        """The unit of one indicator (its domain form or its spec model): the declared one, else the type's."""
        declared: Unit | None = getattr(indicator, "unit", None) if self.declared_unit else None
        return declared or self.unit

    @functools.cached_property
    def model(self) -> builtins.type[BaseModel]:
        """The spec model (pydantic), imported at its first use: the domain forms, the registry and the evaluation
        of remembered SLOs never import pydantic."""
        model: builtins.type[BaseModel] = importlib.import_module(
            f"dagster_project.indicators.models.{self.type}"
        ).MODEL
        return model

    @property
    def gx(self) -> bool:
        return self.gx_reason is None

    def from_spec(self, model: BaseModel, ctx: SpecContext) -> Indicator:
        if self.to_domain is not None:
            return self.to_domain(model, ctx)
        return self.make(**{k: v for k, v in _plain(model).items() if k != "type"})

    def make(self, **fields: Any) -> Indicator:
        """The domain form from its fields (lists become tuples)."""
        return self.domain(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})

    def runs_on(self, engine: str) -> bool:
        return engine in self.engines

    @property
    def row_level(self) -> bool:
        """It judges each row and can say which fail (its domain form gives `failing_rows`): an SLO of it may
        declare `samples:`."""
        return self.domain.failing_rows is not Indicator.failing_rows
