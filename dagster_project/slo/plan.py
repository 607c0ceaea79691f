"""The engine-neutral check plan: which SLOs share one scan of their dataset, which need their own query, and those
queries as dialect-neutral SQL trees (sqlglot), rendered per engine by indicators/sql.py's `render`.

Grouping and SQL are the compiler's job so that every engine fuses, orders and computes the same way; an engine only
runs the rendered text. Each indicator says how it is measured (indicators/registry.py); the plan never branches on
an indicator's name. Order is deterministic (datasets, then SLO ids) so plans, outputs and generated files are stable.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from dagster_project.indicators.base import Context
from dagster_project.indicators.lazy import exp, sql
from dagster_project.indicators.registry import REGISTRY
from dagster_project.slo.domain import RowFilter, Slo
from dagster_project.spec.free_sql import require_predicate

# Indicators that are one aggregate over their own dataset, so all of a dataset's can share one scan.
SCAN_KINDS = frozenset(name for name, d in REGISTRY.items() if d.measured == "scan")


@dataclass(frozen=True)
class CheckPlan:
    slos: tuple[Slo, ...]
    scans: tuple[tuple[str, tuple[Slo, ...]], ...]  # (dataset, the SLOs computed in its one scan)
    singles: tuple[Slo, ...]  # each needs a query (or a procedure) of its own
    grouped: tuple[Slo, ...] = ()  # scan indicators judged per group (spec: group_by): a GROUP BY query each


def compile_plan(slos: Sequence[Slo]) -> CheckPlan:
    """SLOs on one dataset judging the same rows (no filter, or the same where/partition) share one scan."""
    ordered = tuple(sorted(slos, key=lambda s: (s.dataset, s.id)))
    by_source: dict[tuple[str, str], list[Slo]] = {}
    for slo in ordered:
        if slo.definition.measured == "scan" and not slo.group_by:
            by_source.setdefault((slo.dataset, "" if slo.filter is None else repr(slo.filter)), []).append(slo)
    scans = tuple((source[0], tuple(items)) for source, items in sorted(by_source.items()))
    singles = tuple(s for s in ordered if s.definition.measured != "scan")
    grouped = tuple(s for s in ordered if s.definition.measured == "scan" and s.group_by)
    return CheckPlan(slos=ordered, scans=scans, singles=singles, grouped=grouped)


@dataclass(frozen=True)
class ScanQuery:
    """A dataset's scan: one SELECT with a column per SLO (m0, m1, ...); `alone(i)` is the i-th SLO's aggregate by
    itself, which the evaluator falls back to when the fused query fails (to find which one)."""

    dataset: str
    slos: tuple[Slo, ...]
    fused: exp.Select
    as_of: datetime
    text_columns: tuple[str, ...]

    def alone(self, i: int) -> exp.Select:
        slo = self.slos[i]
        return narrowed(
            sql.select(scan_expression(slo, self.as_of, self.text_columns), from_=sql.table(slo.dataset)),
            slo.filter,
            self.as_of,
        )


@functools.lru_cache(maxsize=256)
def _predicate(where: str, dialect: str) -> exp.Expr:
    return require_predicate(where, dialect)


def condition(row_filter: RowFilter, as_of: datetime) -> exp.Expr:
    """The rows a filter keeps at `as_of`: its `where` (parsed in its dialect, placed as a tree) and its slice."""
    parts: list[exp.Expr] = []
    if row_filter.where is not None:
        parts.append(exp.paren(_predicate(row_filter.where, row_filter.dialect).copy(), copy=False))
    start = row_filter.slice_start(as_of)
    if start is not None and row_filter.column is not None:  # [as_of - last, as_of): a replay sees what was there
        parts.append(exp.GTE(this=sql.col(row_filter.column), expression=sql.timestamp(start)))
        parts.append(exp.LT(this=sql.col(row_filter.column), expression=sql.timestamp(as_of)))
    return sql.all_of(parts)


def narrowed(query: exp.Select, row_filter: RowFilter | None, as_of: datetime) -> exp.Select:
    return query if row_filter is None else query.where(condition(row_filter, as_of), copy=False)


def scan_expression(slo: Slo, as_of: datetime, text_columns: Sequence[str]) -> exp.Expr:
    return slo.indicator.scan(Context(slo.dataset, as_of, tuple(text_columns)))


def scan_query(dataset: str, slos: Sequence[Slo], as_of: datetime, text_columns: Sequence[str]) -> ScanQuery:
    fused = sql.select(
        *(
            exp.alias_(exp.paren(scan_expression(s, as_of, text_columns), copy=False), f"m{i}", copy=False)
            for i, s in enumerate(slos)
        ),
        from_=sql.table(dataset),
    )
    fused = narrowed(fused, slos[0].filter if slos else None, as_of)
    return ScanQuery(dataset, tuple(slos), fused, as_of, tuple(text_columns))


def grouped_query(slo: Slo, as_of: datetime, text_columns: Sequence[str]) -> exp.Select:
    """The SLO's aggregate per group: its group columns, then the value; at most max_groups + 1 groups (one more
    says there are too many). The caller orders them (engines order text differently)."""
    keys = [sql.col(c) for c in slo.group_by]
    query = sql.select(
        *(exp.alias_(k.copy(), f"g{j}", copy=False) for j, k in enumerate(keys)),
        exp.alias_(exp.paren(scan_expression(slo, as_of, text_columns), copy=False), "m", copy=False),
        from_=sql.table(slo.dataset),
    )
    query = narrowed(query, slo.filter, as_of)
    query = query.group_by(*(k.copy() for k in keys), copy=False)
    return query.limit(slo.max_groups + 1, copy=False)  # which ones does not matter: more than max is an error


def single_query(slo: Slo, as_of: datetime) -> exp.Query:
    """The query of an indicator measured by a query of its own."""
    return slo.indicator.query(Context(slo.dataset, as_of))


def scan_queries(
    plan: CheckPlan, as_of: datetime, text_columns: Callable[[str], Sequence[str]]
) -> tuple[ScanQuery, ...]:
    """Every dataset's scan at `as_of` (naive UTC); `text_columns` of a dataset from the engine's catalog."""
    return tuple(scan_query(ds, slos, as_of, text_columns(ds)) for ds, slos in plan.scans)
