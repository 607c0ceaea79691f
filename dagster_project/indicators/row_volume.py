"""row_volume (completeness): rows in the period ending at the newest row (at or before the evaluation time) divided
by the mean of the `baseline_periods` periods before it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from dagster_project.indicators.base import Context, Definition, Indicator, Read, SpecContext
from dagster_project.indicators.durations import seconds
from dagster_project.indicators.lazy import exp, sql, template

# The query's one canonical form, parsed once; names and values are put in as nodes (never as text).
_QUERY = template(
    """
    WITH anchor AS (
        SELECT max(epoch_seconds(ts)) AS now FROM t WHERE ts <= as_of
    ),
    buckets AS (
        SELECT floor((anchor.now - epoch_seconds(ts)) / period) AS k, count(*) AS n FROM t, anchor
        WHERE epoch_seconds(ts) <= anchor.now AND epoch_seconds(ts) > anchor.now - span
        GROUP BY k
    )
    SELECT coalesce(sum(n) FILTER (WHERE k = 0), 0)
           / nullif(coalesce(sum(n) FILTER (WHERE k BETWEEN 1 AND periods), 0) / periods, 0)
    FROM buckets
    """
)

if TYPE_CHECKING:  # the spec model (pydantic) is read, never imported here
    from dagster_project.indicators.models.row_volume import RowVolume


@dataclass(frozen=True)
class RowVolumeIndicator(Indicator):
    type: ClassVar[str] = "row_volume"
    timestamp_column: str
    period: float = 86400.0  # seconds
    baseline_periods: int = 7

    def query(self, ctx: Context) -> exp.Query:
        # Periods end at the newest row at or before the evaluation time, not at the evaluation time: a table loaded
        # once a day and checked every hour has the same volume all day (whether data stopped arriving is the
        # freshness SLOs' concern). Rows after the evaluation time are left out, as max_age leaves them out.
        values: dict[str, exp.Expr] = {
            "as_of": sql.timestamp(ctx.as_of),
            "period": sql.lit(float(self.period)),
            "span": sql.lit(float(self.period) * (self.baseline_periods + 1)),
            "periods": sql.lit(int(self.baseline_periods)),
        }
        query = sql.fill(_QUERY, {"ts": self.timestamp_column}, values, {"t": ctx.dataset})
        assert isinstance(query, exp.Query)
        return query

    def reads(self, dataset: str) -> tuple[Read, ...]:
        return (Read(dataset, self.timestamp_column, "time", ("timestamp_column",)),)

    def no_value(self, dataset: str) -> str:
        return "no value: no rows in the baseline periods to compare with"


def _domain(model: RowVolume, _ctx: SpecContext) -> Indicator:
    return RowVolumeIndicator(model.timestamp_column, seconds(model.period), model.baseline_periods)


DEFINITION = Definition(
    "row_volume",
    RowVolumeIndicator,
    unit="ratio",
    measured="query",
    gx_reason="volume against a trailing baseline is relative to the evaluation time",
    unbounded=True,
    to_domain=_domain,
)
