"""uniqueness (uniqueness): distinct complete keys over complete keys; 1.0 with none."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from dagster_project.indicators.base import (
    BatchColumn,
    Context,
    Definition,
    GxBound,
    Indicator,
    MissingResult,
    Part,
    Read,
    gx_count,
    read_columns,
)
from dagster_project.indicators.lazy import exp, sql


def key_column(columns: tuple[str, ...]) -> str:
    return "(" + ", ".join(columns) + ")"


@dataclass(frozen=True)
class UniquenessIndicator(Indicator):
    type: ClassVar[str] = "uniqueness"
    columns: tuple[str, ...]

    def scan(self, ctx: Context) -> exp.Expr:
        # Keys with a null part are left out (a null key is completeness's concern), as for every other ratio.
        complete = sql.all_of([sql.not_null(sql.col(c)) for c in self.columns])
        distinct = sql.count_distinct([sql.col(c) for c in self.columns])
        if len(self.columns) > 1:  # one column: count(DISTINCT c) never counts a null, and a FILTER on a distinct
            distinct = sql.filtered(distinct, complete)  # aggregate makes Spark copy every row (Expand)
        keys = sql.filtered(sql.count(), complete.copy())
        return sql.coalesce(sql.div(sql.as_double(distinct), sql.nullif(keys, sql.lit(0))), sql.lit(1.0))

    def failing_rows(self, ctx: Context) -> exp.Expr:
        """Every row of a complete key that occurs more than once among the judged rows (ctx.rows)."""
        complete = sql.all_of([sql.not_null(sql.col(c)) for c in self.columns])
        judged = complete if ctx.rows is None else exp.and_(complete, exp.paren(ctx.rows.copy()), copy=False)
        duplicated = (
            sql.select(*(sql.col(c) for c in self.columns), from_=sql.table(ctx.dataset))
            .where(judged, copy=False)
            .group_by(*(sql.col(c) for c in self.columns), copy=False)
            .having(exp.GT(this=sql.count(), expression=sql.lit(1)), copy=False)
        )
        keys = [sql.col(c) for c in self.columns]
        key: exp.Expr = keys[0] if len(keys) == 1 else exp.Tuple(expressions=keys)
        return exp.In(this=key, query=exp.Subquery(this=duplicated))

    def reads(self, dataset: str) -> tuple[Read, ...]:
        return read_columns(dataset, self.columns)

    def gx_parts(self, bound: GxBound) -> tuple[tuple[Part, ...], tuple[BatchColumn, ...]]:
        columns = self.columns
        batch = (
            tuple(BatchColumn(c, (c,)) for c in columns)
            if len(columns) == 1
            else (BatchColumn(key_column(columns), columns, "key"),)
        )
        name = batch[0].name
        kwargs = {"column": name, "min_value": bound.minimum}
        # The second part counts the keys present: none present is 1.0, as natively (GX's proportion says 0).
        parts = (
            Part("ExpectColumnProportionOfUniqueValuesToBeBetween", kwargs),
            Part("ExpectColumnValuesToNotBeNull", {"column": name, "mostly": 0.0}),
        )
        return parts, batch

    def gx_observed(self, results: Sequence[Mapping[str, Any]]) -> float:
        if gx_count(results[1], "element_count") == gx_count(results[1], "unexpected_count"):
            return 1.0  # no key present: nothing violates uniqueness
        value = results[0].get("observed_value")
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise MissingResult("GX returned no observed_value")
        return float(value)


DEFINITION = Definition("uniqueness", UniquenessIndicator, unit="ratio", measured="scan")
