"""The evaluator: runs a check plan on any engine adapter (engines/adapter.py) and gives every planned SLO its observed
value, or the reason it has none. The same code runs DuckDB, PostgreSQL and Spark; the plan's queries are rendered
in the adapter's dialect (once per process, the evaluation time filled in at each evaluation: slo/rendered.py), and
nothing here branches on an engine or on an indicator's name (each indicator says how it is measured:
indicators/registry.py).

Each dataset's scan indicators run as one SELECT (one pass over the table). If that query fails (a missing column,
a bad regex, or it runs past the longest of their time limits), each of its SLOs is retried alone, so one broken or
runaway check is recorded as an error and the others still produce values. Every query runs under its SLO's time
limit (spec: timeout). SQL written in a spec (custom indicators, consumer queries) is checked to be exactly one
read-only SELECT in the adapter's dialect before it runs, and runs after every other check. Nothing here decides pass
or fail.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from dagster_project.engines.adapter import Catalog, EngineAdapter, EngineError, QueryTimedOut, first_value
from dagster_project.engines.samples import with_samples
from dagster_project.indicators.base import NO_STORE, History, Measured
from dagster_project.indicators.lazy import sql
from dagster_project.slo import plan, rendered
from dagster_project.slo.decide import worst
from dagster_project.slo.domain import Slo
from dagster_project.slo.evaluation import Evaluation, GroupValue, Slice
from dagster_project.slo.plan import CheckPlan
from dagster_project.spec.free_sql import FreeSqlRejected, require_single_select

SPEC_SQL = frozenset({"free_sql", "timed"})  # measurements that run SQL written in a spec


def _number(value: object, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{what} returned a value of type {type(value).__name__}, not a number")  # not the value
    number = float(value)
    if math.isnan(number):
        return None
    return number


def judgeable(slo: Slo, value: object) -> Evaluation:
    try:
        number = _number(value, slo.kind)
    except TypeError as exc:
        return Evaluation(slo, None, str(exc))
    if number is None:
        return Evaluation(slo, None, slo.indicator.no_value(slo.dataset))
    return Evaluation(slo, number)


def _scan(
    adapter: EngineAdapter, catalog: Catalog, dataset: str, slos: Sequence[Slo], as_of: datetime
) -> list[Evaluation]:
    if not catalog.exists(dataset):
        return [Evaluation(s, None, s.indicator.missing_dataset(dataset)) for s in slos]
    text_columns = catalog.text_columns(dataset)
    try:
        fused = rendered.scan(dataset, slos, text_columns, adapter.dialect, as_of)
        rows = adapter.fetch(fused, max(s.timeout_s for s in slos), max_rows=1)
        return [judgeable(s, v) for s, v in zip(slos, rows[0], strict=True)]
    except (EngineError, QueryTimedOut):
        pass  # find which one: each alone
    out = []
    for slo in slos:
        try:
            alone = rendered.scan_alone(slo, text_columns, adapter.dialect, as_of)
            out.append(judgeable(slo, first_value(adapter.fetch(alone, slo.timeout_s, 1))))
        except (EngineError, QueryTimedOut) as exc:
            out.append(Evaluation(slo, None, str(exc)))
    return out


def missing_read(catalog: Catalog, slo: Slo) -> str | None:
    """Which table or column an indicator reads is missing, said plainly (an engine's binder errors about the
    query's aliases would confuse)."""
    for read in slo.indicator.reads(slo.dataset):
        if not catalog.exists(read.dataset):
            return slo.indicator.missing_dataset(read.dataset)
        if read.column not in catalog.column_names(read.dataset):
            return f"column {read.column} not found in {read.dataset}"
    return None


def _catalog_only(adapter: EngineAdapter, catalog: Catalog, slo: Slo) -> Evaluation:
    if not catalog.exists(slo.dataset):
        return Evaluation(slo, None, slo.indicator.missing_dataset(slo.dataset))
    columns = {c.name: c for c in catalog.columns(slo.dataset)}
    measured = slo.indicator.from_catalog(
        {name: c.type for name, c in columns.items()}, lambda expected, name: adapter.same_type(expected, columns[name])
    )
    return Evaluation(slo, measured.value, measured.error, detail=measured.detail, kept=measured.kept or None)


def _free_sql(adapter: EngineAdapter, slo: Slo) -> Evaluation:
    sql = slo.indicator.free_sql()
    require_single_select(sql, dialect=adapter.dialect)
    rows = adapter.fetch(sql, slo.timeout_s, max_rows=2)
    if len(rows) != 1 or len(rows[0]) != 1:
        return Evaluation(slo, None, "custom SQL must return exactly one row with one column")
    return judgeable(slo, rows[0][0])


def _timed(adapter: EngineAdapter, slo: Slo) -> Evaluation:
    """Timings of the runs that succeeded and the number that failed; a run past the time limit ends them all
    (QueryTimedOut): how slow is not known, only that it is slower than the SLO allows any query to be."""
    sql = slo.indicator.free_sql()
    require_single_select(sql, dialect=adapter.dialect)
    timings, failures = [], 0
    for _ in range(slo.indicator.timed_runs()):
        try:
            started = time.perf_counter()
            adapter.fetch(sql, slo.timeout_s, max_rows=None)
            timings.append(time.perf_counter() - started)
        except EngineError:
            failures += 1
    value, error = slo.indicator.from_runs(timings, failures)
    return Evaluation(slo, value, error)


def _key_text(value: object) -> str | None:
    """A group key's value as text, the same on every engine (numbers without a driver's type, times in ISO)."""
    if value is None:
        return None
    if isinstance(value, Decimal | float) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, float | Decimal):
        return repr(float(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _grouped(adapter: EngineAdapter, catalog: Catalog, slo: Slo, as_of: datetime) -> Evaluation:
    """Each group's value; the worst group's is the observed value (slo/decide.py: worst); more groups than
    max_groups is an error, never a cardinality explosion."""
    if not catalog.exists(slo.dataset):
        return Evaluation(slo, None, slo.indicator.missing_dataset(slo.dataset))
    missing = next((c for c in slo.group_by if c not in catalog.column_names(slo.dataset)), None)
    if missing is not None:
        return Evaluation(slo, None, f"group_by column {missing} not found in {slo.dataset}")
    query = sql.render(plan.grouped_query(slo, as_of, catalog.text_columns(slo.dataset)), adapter.dialect)
    try:
        rows = adapter.fetch(query, slo.timeout_s, max_rows=slo.max_groups + 1)
    except (EngineError, QueryTimedOut) as exc:
        return Evaluation(slo, None, str(exc))
    if len(rows) > slo.max_groups:
        return Evaluation(
            slo, None, f"more than max_groups {slo.max_groups} groups of {', '.join(slo.group_by)}: not judged"
        )
    width = len(slo.group_by)
    groups = []
    for row in rows:
        try:
            value = _number(row[width], slo.kind)
        except TypeError as exc:
            return Evaluation(slo, None, str(exc))
        key = tuple((c, _key_text(v)) for c, v in zip(slo.group_by, row[:width], strict=True))
        groups.append(GroupValue(key, value))
    groups.sort(key=lambda g: tuple((v is not None, v or "") for _, v in g.key))
    valued = [g for g in groups if g.observed is not None]
    if not valued:
        return Evaluation(slo, None, slo.indicator.no_value(slo.dataset), groups=tuple(groups))
    k = worst([g.observed for g in valued if g.observed is not None], slo.threshold)
    detail = f"worst of {len(groups)} groups: {valued[k].label}"
    return Evaluation(slo, valued[k].observed, detail=detail, groups=tuple(groups))


def _single(adapter: EngineAdapter, catalog: Catalog, slo: Slo, as_of: datetime) -> Evaluation:
    measured = slo.definition.measured
    try:
        if measured == "timed":
            return _timed(adapter, slo)
        if measured == "free_sql":
            return _free_sql(adapter, slo)
        if measured == "catalog":
            return _catalog_only(adapter, catalog, slo)
        missing = missing_read(catalog, slo)
        if missing is not None:
            return Evaluation(slo, None, missing)
        rows = adapter.fetch(rendered.single(slo, adapter.dialect, as_of), slo.timeout_s, max_rows=1)
        return judgeable(slo, first_value(rows))
    except QueryTimedOut as exc:
        return Evaluation(slo, None, str(exc))
    except FreeSqlRejected as exc:
        return Evaluation(slo, None, f"free SQL {exc}")
    except EngineError as exc:
        return Evaluation(slo, None, str(exc))


def evaluate(
    adapter: EngineAdapter, plan: CheckPlan, as_of: datetime, history: Mapping[str, History] | None = None
) -> list[Evaluation]:
    """One evaluation per planned SLO, in plan order; errors are evaluations too. `as_of` is naive UTC. `history`
    holds the earlier evaluations of the SLOs whose indicator is judged against them (by SLO id; read from the
    results store by the caller, checking.read_history); an SLO missing from it has no store to compare with."""
    by_id: dict[str, Evaluation] = {}
    catalog = adapter.catalog()
    for dataset, slos in plan.scans:
        for evaluation in _scan(adapter, catalog, dataset, slos, as_of):
            by_id[evaluation.slo.id] = evaluation
    for slo in plan.grouped:
        by_id[slo.id] = _grouped(adapter, catalog, slo, as_of)
    # SQL written in specs last: even a rejected statement never runs before another check.
    for slo in sorted(plan.singles, key=lambda s: s.definition.measured in SPEC_SQL):
        by_id[slo.id] = _single(adapter, catalog, slo, as_of)
    # Then the failed-row samples (spec: samples) of the SLOs whose value says rows fail: one bounded query each.
    return [
        _with_slice(with_samples(adapter, catalog, judged(by_id[s.id], history, as_of), as_of), as_of)
        for s in plan.slos
    ]


def judged(evaluation: Evaluation, history: Mapping[str, History] | None, as_of: datetime) -> Evaluation:
    """An evaluation of an indicator judged against its history (Definition.history), judged: after any
    measurement, only when it gave a value or something to keep (an error result stays as it is)."""
    slo = evaluation.slo
    if not slo.definition.history or evaluation.error is not None:
        return evaluation
    measured = Measured(evaluation.observed, evaluation.detail, evaluation.kept or {})
    out = slo.indicator.judge(measured, (history or {}).get(slo.id, NO_STORE), as_of)
    return dataclasses.replace(
        evaluation, observed=out.value, error=out.error, detail=out.detail, kept=dict(out.kept) or None
    )


def _with_slice(evaluation: Evaluation, as_of: datetime) -> Evaluation:
    """The partition's bounds kept with the result (spec: partition), errors included."""
    row_filter = evaluation.slo.filter
    start = None if row_filter is None else row_filter.slice_start(as_of)
    if start is None or row_filter is None or row_filter.column is None:
        return evaluation
    return dataclasses.replace(evaluation, slice=Slice(row_filter.column, start, as_of))
