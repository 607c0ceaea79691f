"""query_latency (performance): a percentile of a consumer query's run times (nearest rank)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from dagster_project.indicators.base import Definition, Indicator, SpecContext

if TYPE_CHECKING:  # the spec model (pydantic) is read, never imported here
    from dagster_project.indicators.models.query_latency import QueryLatency


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class QueryLatencyIndicator(Indicator):
    type: ClassVar[str] = "query_latency"
    query_id: str  # the consumer query (its id in the spec)
    sql: str  # its SQL, in the engine's dialect
    percentile: float = 95
    runs: int = 20

    def free_sql(self) -> str:
        return self.sql

    def timed_runs(self) -> int:
        return self.runs

    def from_runs(self, timings: list[float], failures: int) -> tuple[float | None, str | None]:
        if not timings:
            return None, f"consumer query {self.query_id} failed on every run"
        return percentile(timings, float(self.percentile)), None


def _domain(model: QueryLatency, ctx: SpecContext) -> Indicator:
    return QueryLatencyIndicator(model.query, ctx.queries[model.query], model.percentile, model.runs)


DEFINITION = Definition(
    "query_latency",
    QueryLatencyIndicator,
    unit="duration",
    measured="timed",
    engines=frozenset({"duckdb", "postgres"}),
    not_on="a query's latency on a Spark cluster is mostly scheduling, not the data product",
    gx_reason="performance is about running a consumer query, not about rows",
    to_domain=_domain,
)
