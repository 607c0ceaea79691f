"""What GX reads on PostgreSQL and Spark: one SELECT per dataset making the batch columns the suites need, in the
engine's dialect, so that GX compares what the native engine compares there. Pure: no GX import.

- text (`VARCHAR`): the column cast to text as the native engine casts it in that dialect (indicators/sql.as_text);
- numbers (`DOUBLE`): the native engine's number-or-null; a present value that is not a number becomes +infinity,
  present and outside every set of finite numbers (a violation, as natively, not a missing value);
- a compound key (`key`): null when any part is, else one JSON text of the parts (distinct keys, distinct texts);
- as is: the column itself. NaN needs no mapping here (unlike pandas): GX's SQL and Spark comparisons are the engine's
  own, where NaN is a present value above every number, as natively.

Regexes: the indicator gives GX a Python regex anchored as `^(?:regex)\\Z`. PostgreSQL's `~` reads `\\Z` as the end of
the string (as Python does) but `\\b` as a backspace: as the native engine does, it becomes `\\y`. Java's `\\Z` also
matches before a final newline: on Spark it becomes `\\z`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlglot import exp

from dagster_project.indicators import sql
from dagster_project.indicators.base import BatchColumn, Part

INFINITY = "Infinity"


def _key(columns: Sequence[exp.Expr], dialect: str) -> exp.Expr:
    if dialect == "postgres":
        return sql.as_text(exp.Anonymous(this="json_build_array", expressions=list(columns)))
    if dialect == "spark":
        return exp.Anonymous(this="to_json", expressions=[exp.Anonymous(this="array", expressions=[
            sql.as_text(c) for c in columns
        ])])  # fmt: skip
    raise ValueError(f"no GX batch for dialect {dialect!r}")


def column_expression(column: BatchColumn, dialect: str) -> exp.Expr:
    """The batch column, made from the dataset's columns, as a dialect-neutral tree (rendered per dialect)."""
    sources = [sql.col(c) for c in column.source]
    if column.cast == "key":
        any_null = exp.or_(*[exp.Is(this=c.copy(), expression=exp.Null()) for c in sources], copy=False)
        return exp.Case(ifs=[exp.If(this=any_null, true=exp.Null())], default=_key(sources, dialect))
    if column.cast == "VARCHAR":
        return sql.as_text(sources[0])
    if column.cast == "DOUBLE":
        c = sources[0]
        number = sql.coalesce(sql.NumberOrNull(this=c.copy()), exp.cast(exp.Literal.string(INFINITY), sql.DOUBLE))
        is_null = exp.Is(this=c.copy(), expression=exp.Null())
        return exp.Case(ifs=[exp.If(this=is_null, true=exp.Null())], default=number)
    return sources[0]


def batch_query(dataset: str, columns: Sequence[BatchColumn], dialect: str) -> str:
    """One SELECT of the batch columns (each named as the suite names it) from the dataset."""
    select = exp.select(*[exp.alias_(column_expression(c, dialect), c.name, quoted=True) for c in columns])
    return sql.render(select.from_(sql.table(dataset)), dialect)


def probe_query(dataset: str, columns: Sequence[str], dialect: str) -> str:
    """A query that fails, as the native engine would, when the dataset or one of the columns is missing."""
    select = exp.select(*[sql.col(c) for c in columns]).from_(sql.table(dataset)).limit(0)
    return sql.render(select, dialect)


def regex_for(regex: str, dialect: str) -> str:
    """A regex anchored for GX's pandas path (`^(?:...)\\Z`, Python) as the engine's own regex matching reads it."""
    if dialect == "postgres":
        return regex.replace(r"\b", r"\y")
    if dialect == "spark" and regex.endswith(r"\Z"):
        return regex[:-2] + r"\z"
    return regex


def part_for(part: Part, dialect: str) -> Part:
    """The part with its regex, if it has one, in the engine's terms."""
    if isinstance(part.kwargs.get("regex"), str):
        return replace(part, kwargs={**part.kwargs, "regex": regex_for(part.kwargs["regex"], dialect)})
    return part
