"""not_in_future (validity): share of the dated rows not after the evaluation time plus a tolerance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from dagster_project.indicators.base import Context, Definition, Indicator, Read, SpecContext
from dagster_project.indicators.durations import seconds
from dagster_project.indicators.lazy import exp, sql

if TYPE_CHECKING:  # the spec model (pydantic) is read, never imported here
    from dagster_project.indicators.models.not_in_future import NotInFuture


@dataclass(frozen=True)
class NotInFutureIndicator(Indicator):
    type: ClassVar[str] = "not_in_future"
    column: str
    tolerance: float = 300.0  # seconds

    def scan(self, ctx: Context) -> exp.Expr:
        # The latest allowed instant as one timestamp literal (microseconds, so a fractional tolerance is kept), the
        # column compared with it as max_age compares it: no per-row arithmetic (epoch seconds of every row cost
        # PostgreSQL 1.3x its hand-written scan of raw.orders). A null is not judged (completeness's).
        c = sql.col(self.column)
        latest = sql.timestamp(ctx.as_of + timedelta(seconds=self.tolerance))
        return sql.share(exp.LTE(this=c.copy(), expression=latest), c)

    def failing_rows(self, ctx: Context) -> exp.Expr:
        c = sql.col(self.column)
        latest = sql.timestamp(ctx.as_of + timedelta(seconds=self.tolerance))
        return sql.failing(exp.LTE(this=c.copy(), expression=latest), c)

    def reads(self, dataset: str) -> tuple[Read, ...]:
        return (Read(dataset, self.column, "time", ("column",)),)


def _domain(model: NotInFuture, _ctx: SpecContext) -> Indicator:
    return NotInFutureIndicator(model.column, seconds(model.tolerance))


DEFINITION = Definition(
    "not_in_future",
    NotInFutureIndicator,
    unit="ratio",
    measured="scan",
    gx_reason="the bound is relative to the evaluation time, which GX has no expectation for",
    to_domain=_domain,
)
