"""query_availability (performance): share of a consumer query's runs that succeed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from dagster_project.indicators.base import Definition, Indicator, SpecContext


@dataclass(frozen=True)
class QueryAvailabilityIndicator(Indicator):
    type: ClassVar[str] = "query_availability"
    query_id: str  # the consumer query (its id in the spec)
    sql: str  # its SQL, in the engine's dialect
    runs: int = 20

    def free_sql(self) -> str:
        return self.sql

    def timed_runs(self) -> int:
        return self.runs

    def from_runs(self, timings: list[float], failures: int) -> tuple[float | None, str | None]:
        return len(timings) / (len(timings) + failures), None


def _domain(model: QueryAvailability, ctx: SpecContext) -> Indicator:
    return QueryAvailabilityIndicator(model.query, ctx.queries[model.query], model.runs)


DEFINITION = Definition(
    "query_availability",
    QueryAvailabilityIndicator,
    unit="ratio",
    measured="timed",
    gx_reason="performance is about running a consumer query, not about rows",
    to_domain=_domain,
)

if TYPE_CHECKING:  # the spec model (pydantic) is read, never imported here
    from dagster_project.indicators.models.query_availability import QueryAvailability
