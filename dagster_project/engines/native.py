"""The native engine on DuckDB: the generic evaluator (engines/evaluate.py) over the DuckDB adapter
(engines/duckdb_adapter.py), for callers that hold a DuckDB connection (the GX engine, the Dagster checks)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import duckdb

from dagster_project.engines import evaluate as evaluator
from dagster_project.engines.duckdb_adapter import DuckDBAdapter, open_for_checks
from dagster_project.indicators.base import History
from dagster_project.indicators.query_latency import percentile
from dagster_project.slo.evaluation import Evaluation
from dagster_project.slo.plan import CheckPlan

__all__ = ["evaluate", "open_for_checks", "percentile"]


def evaluate(
    con: duckdb.DuckDBPyConnection, plan: CheckPlan, as_of: datetime, history: Mapping[str, History] | None = None
) -> list[Evaluation]:
    """One evaluation per planned SLO, in plan order; errors are evaluations too."""
    return evaluator.evaluate(DuckDBAdapter(con), plan, as_of, history)
