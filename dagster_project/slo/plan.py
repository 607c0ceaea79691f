"""The engine-neutral check plan: which SLOs share one scan of their dataset, which need their own query, and those
queries as dialect-neutral SQL trees (sqlglot), rendered per engine by indicators/sql.py's `render`.

Grouping and SQL are the compiler's job so that every engine fuses, orders and computes the same way; an engine only
runs the rendered text. Each indicator says how it is measured (indicators/registry.py); the plan never branches on
an indicator's name. Order is deterministic (datasets, then SLO ids) so plans, outputs and generated files are stable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from dagster_project.indicators import sql
from dagster_project.indicators.base import Context
from dagster_project.indicators.registry import REGISTRY
from dagster_project.slo.domain import Slo

# Indicators that are one aggregate over their own dataset, so all of a dataset's can share one scan.
SCAN_KINDS = frozenset(name for name, d in REGISTRY.items() if d.measured == "scan")


@dataclass(frozen=True)
class CheckPlan:
    slos: tuple[Slo, ...]
    scans: tuple[tuple[str, tuple[Slo, ...]], ...]  # (dataset, the SLOs computed in its one scan)
    singles: tuple[Slo, ...]  # each needs a query (or a procedure) of its own


def compile_plan(slos: Sequence[Slo]) -> CheckPlan:
    ordered = tuple(sorted(slos, key=lambda s: (s.dataset, s.id)))
    by_dataset: dict[str, list[Slo]] = {}
    for slo in ordered:
        if slo.definition.measured == "scan":
            by_dataset.setdefault(slo.dataset, []).append(slo)
    scans = tuple((ds, tuple(items)) for ds, items in sorted(by_dataset.items()))
    singles = tuple(s for s in ordered if s.definition.measured != "scan")
    return CheckPlan(slos=ordered, scans=scans, singles=singles)


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
        return sql.select(scan_expression(self.slos[i], self.as_of, self.text_columns), from_=sql.table(self.dataset))


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
    return ScanQuery(dataset, tuple(slos), fused, as_of, tuple(text_columns))


def single_query(slo: Slo, as_of: datetime) -> exp.Query:
    """The query of an indicator measured by a query of its own."""
    return slo.indicator.query(Context(slo.dataset, as_of))


def scan_queries(
    plan: CheckPlan, as_of: datetime, text_columns: Callable[[str], Sequence[str]]
) -> tuple[ScanQuery, ...]:
    """Every dataset's scan at `as_of` (naive UTC); `text_columns` of a dataset from the engine's catalog."""
    return tuple(scan_query(ds, slos, as_of, text_columns(ds)) for ds, slos in plan.scans)
