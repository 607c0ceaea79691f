"""no_pii (governance): count of values matching a PII pattern in the text columns (all of them unless `columns`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from dagster_project.indicators.base import Context, Definition, Indicator, Read, read_columns
from dagster_project.indicators.lazy import exp, sql, template

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"

# Each searched for anywhere in a value (PostgreSQL reads \b as \y, sql.py). What each finds and misses:
# docs/formats.md#pii-patterns; tests/test_engines_agree.py searches the same samples on every engine.
PII_PATTERNS = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    "phone": "|".join(
        (
            r"\+[0-9]{1,3}[ .-]?(?:\([0-9]{1,4}\)[ .-]?)?[0-9][0-9 .-]{6,}[0-9]",  # +44 20 7946 0958, +1 (555) 123-4567
            r"\([0-9]{3}\) ?[0-9]{3}[ .-][0-9]{4}\b",  # (555) 123-4567
            r"\b[0-9]{3}[.-][0-9]{3}[.-][0-9]{4}\b",  # 555-123-4567, 555.123.4567
            r"\b[0-9]{3} [0-9]{3} [0-9]{4}\b",  # 555 123 4567
        )
    ),
    "iban": r"\b[A-Z]{2}[0-9]{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?)\b",
    "credit_card": r"\b(?:[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{1,4}|3[47][0-9]{2}[ -]?[0-9]{6}[ -]?[0-9]{5})\b",
    "us_ssn": (
        r"\b(?:00[1-9]|0[1-9][0-9]|[1-578][0-9]{2}|6[0-57-9][0-9]|66[0-57-9])"
        r"-(?:0[1-9]|[1-9][0-9])-(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})\b"
    ),
    "ipv4": rf"\b{_OCTET}(?:\.{_OCTET}){{3}}\b",
}
PiiPattern = Literal["email", "phone", "iban", "credit_card", "us_ssn", "ipv4"]


# The matching rows of one column, counted over its distinct values: the pattern runs once per value, not once per
# row (a category column of 10M rows has a few dozen values: 0.7 s -> 0.06 s at 10M order lines). The sum is the
# same: a value's rows all match or all do not; nulls match nothing.
_PER_COLUMN = template(
    "(SELECT coalesce(sum(n * CAST(pii_search(v) AS INT)), 0)"
    " FROM (SELECT CAST(c AS TEXT) AS v, count(*) AS n FROM t GROUP BY CAST(c AS TEXT)) AS per_value)"
)


@dataclass(frozen=True)
class NoPiiIndicator(Indicator):
    type: ClassVar[str] = "no_pii"
    patterns: tuple[str, ...] = ("email", "phone")
    columns: tuple[str, ...] | None = None

    def scan(self, ctx: Context) -> exp.Expr:
        columns = list(self.columns or ctx.text_columns)
        if not columns:
            return sql.lit(0)
        pattern = sql.lit("|".join(f"(?:{PII_PATTERNS[name]})" for name in self.patterns))
        per_column = []
        for c in columns:
            node = sql.fill(_PER_COLUMN, {"c": c}, tables={"t": ctx.dataset})
            search = node.find(exp.Anonymous)
            assert search is not None and str(search.this) == "pii_search"
            search.replace(sql.Search(this=search.expressions[0], expression=pattern.copy()))
            per_column.append(node)
        total = per_column[0]
        for node in per_column[1:]:
            total = exp.Add(this=total, expression=node)
        # A subquery computed once, aggregated with max so that it fuses into the dataset's one scan (no rows: 0).
        return sql.coalesce(exp.Max(this=total), sql.lit(0))

    def failing_rows(self, ctx: Context) -> exp.Expr:
        """Rows with a value matching a pattern in any searched column."""
        columns = list(self.columns or ctx.text_columns)
        if not columns:
            return exp.false()
        pattern = sql.lit("|".join(f"(?:{PII_PATTERNS[name]})" for name in self.patterns))
        found = [sql.Search(this=sql.as_text(sql.col(c)), expression=pattern.copy()) for c in columns]
        return exp.or_(*found, copy=False) if len(found) > 1 else found[0]

    def rows_fail(self, observed: float) -> bool:
        return observed > 0

    def reads(self, dataset: str) -> tuple[Read, ...]:
        return read_columns(dataset, self.columns or ())


DEFINITION = Definition(
    "no_pii",
    NoPiiIndicator,
    unit="count",
    measured="scan",
    gx_reason="governance patterns span every text column of the table",
)
