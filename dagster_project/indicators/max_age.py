"""max_age (freshness): seconds from the newest row at or before the evaluation time to the evaluation time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from dagster_project.indicators.base import Context, Definition, Indicator, Read
from dagster_project.indicators.lazy import exp, sql


@dataclass(frozen=True)
class MaxAgeIndicator(Indicator):
    type: ClassVar[str] = "max_age"
    column: str

    def scan(self, ctx: Context) -> exp.Expr:
        # Only rows at or before the evaluation time: a back-dated check sees the data as it was then (as row_volume
        # does), and a row dated in the future cannot make stale data look fresh. The age is never negative.
        c, now = sql.col(self.column), sql.timestamp(ctx.as_of)
        newest = sql.filtered(exp.Max(this=c), exp.LTE(this=c.copy(), expression=now.copy()))
        return exp.Sub(this=sql.epoch(now), expression=sql.epoch(newest))

    def reads(self, dataset: str) -> tuple[Read, ...]:
        return (Read(dataset, self.column, "time", ("column",)),)

    def no_value(self, dataset: str) -> str:
        return f"no value: {dataset} has no rows at or before the evaluation time"


DEFINITION = Definition(
    "max_age",
    MaxAgeIndicator,
    unit="duration",
    measured="scan",
    gx_reason="freshness is relative to the evaluation time, which GX has no expectation for",
    age=True,
)
