"""build_duration (performance): seconds the last recorded build took, from the build log our builds keep."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from dagster_project.indicators.base import Context, Definition, Indicator, Read
from dagster_project.indicators.lazy import exp, sql, template

# warehouse/build_log.py writes it; only our DuckDB builds keep one.
BUILD_LOG_RUNS = "build_log.runs"

_QUERY = template(
    "SELECT epoch_seconds(finished_at) - epoch_seconds(started_at) FROM runs ORDER BY finished_at DESC LIMIT 1"
)


@dataclass(frozen=True)
class BuildDurationIndicator(Indicator):
    type: ClassVar[str] = "build_duration"

    def query(self, ctx: Context) -> exp.Query:
        query = sql.fill(_QUERY, tables={"runs": BUILD_LOG_RUNS})
        assert isinstance(query, exp.Query)
        return query

    def reads(self, dataset: str) -> tuple[Read, ...]:
        return (
            Read(BUILD_LOG_RUNS, "started_at", "time", implicit=True),
            Read(BUILD_LOG_RUNS, "finished_at", "time", implicit=True),
        )

    def missing_dataset(self, dataset: str) -> str:
        return "no build recorded in this database"


DEFINITION = Definition(
    "build_duration",
    BuildDurationIndicator,
    unit="duration",
    measured="query",
    engines=frozenset({"duckdb"}),
    not_on="the build log is kept only where our builds write: a DuckDB database",
    gx_reason="performance is about running the build, not about rows",
    about_the_build=True,
)
