"""Dialect-neutral SQL for the indicators: sqlglot expression trees built here, rendered per engine by `render`.

Every name is a quoted identifier and every value from a spec a literal node, so a spec cannot change the shape of a
query. What engines spell differently is one node here with one rendering per dialect, so the indicators never
branch on the engine:

- EpochSeconds: seconds since the epoch with microseconds (DuckDB epoch(); PostgreSQL date_part('epoch', ...);
  Spark's unix_timestamp truncates to seconds, so unix_micros / 1e6);
- FullMatch / Search: a regex matching the whole text / somewhere in it (DuckDB regexp_full_match and
  regexp_matches, RE2; PostgreSQL `~` anchored with ^(?:...)$, where \\b is spelt \\y; Spark RLIKE, Java, anchored
  with \\z since its $ also matches before a final newline);
- Percentile: the continuous percentile (linear interpolation between the two nearest ranks, SQL's percentile_cont),
  the same number to the last bit everywhere: PostgreSQL's percentile_cont and Spark's percentile both give
  lo + (hi - lo) * d; DuckDB's quantile_cont computes lo * (1 - d) + hi * d, which differs in the last bits, so on
  DuckDB the two ranks are taken from the sorted list of values and interpolated as the others do;
- NumberOrNull: a value as DOUBLE, null when it is not a number (DuckDB TRY_CAST; elsewhere a guarded CAST: PostgreSQL
  has no TRY_CAST, and Spark's CAST raises under ANSI mode);
- count_if, FILTER, casts to text and DOUBLE, count(DISTINCT a, b) of several columns and timestamp literals are
  sqlglot's own nodes, which it already renders per dialect.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

# sqlglot-free, kept in indicators/lazy.py for what rendered texts need without a tree; exported here too
from dagster_project.indicators.lazy import AS_OF_TOKEN as AS_OF_TOKEN
from dagster_project.indicators.lazy import Template as Template
from dagster_project.indicators.lazy import template as template
from dagster_project.indicators.lazy import timestamp_text as timestamp_text

DIALECTS = ("duckdb", "postgres", "spark")

DOUBLE = exp.DataType.build("DOUBLE")
TEXT = exp.DataType.build("TEXT")
INT = exp.DataType.build("INT")
TIMESTAMP = exp.DataType.build("TIMESTAMP")


class EpochSeconds(exp.Expression, exp.Func):
    """Seconds since 1970-01-01 of a timestamp (naive UTC) or date, with microseconds."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True}


class FullMatch(exp.Expression, exp.Func):
    arg_types: ClassVar[dict[str, bool]] = {"this": True, "expression": True}


class Search(exp.Expression, exp.Func):
    arg_types: ClassVar[dict[str, bool]] = {"this": True, "expression": True}


class Percentile(exp.Expression, exp.Func):
    """An aggregate: the `fraction` (0..1, a literal) percentile of the non-null values of `this` (a DOUBLE)."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "fraction": True}


class NumberOrNull(exp.Expression, exp.Func):
    arg_types: ClassVar[dict[str, bool]] = {"this": True}


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def table(dataset: str, alias: str | None = None) -> exp.Table:
    schema, name = dataset.split(".", 1)
    node = exp.table_(name, db=schema, quoted=True)
    return node if alias is None else exp.alias_(node, alias, table=True)  # type: ignore[return-value]


def lit(value: object) -> exp.Expr:
    if isinstance(value, bool) or value is None:
        raise TypeError(f"unsupported literal {value!r}")
    if isinstance(value, int):
        return exp.Literal.number(str(value))
    if isinstance(value, float):
        return exp.Literal.number(repr(value))
    return exp.Literal.string(str(value))


class EvaluationTimeUsed(TypeError):
    """An indicator derived something from the evaluation time other than its literal: its SQL cannot be rendered
    once and filled in per evaluation (slo/rendered.py renders it afresh each time instead)."""


class _AsOfPlaceholder(datetime):
    """The evaluation time while a query is rendered once for every evaluation: `timestamp` makes it a placeholder
    literal. It may be shifted by a fixed timedelta (`ctx.as_of + tolerance`: a placeholder of its own, filled in as
    the evaluation time plus that shift); any other use of it (its fields, comparisons, formatting, truncation)
    raises EvaluationTimeUsed."""

    shift_us = 0  # microseconds after the evaluation time

    def _used(self, *_args: object, **_kwargs: object) -> Any:
        raise EvaluationTimeUsed("the evaluation time enters SQL only as sql.timestamp(ctx.as_of [+ a timedelta])")

    def _shifted(self, by: timedelta) -> _AsOfPlaceholder:
        out = _AsOfPlaceholder(2000, 1, 1)
        out.shift_us = self.shift_us + by // timedelta(microseconds=1)
        return out

    def __add__(self, other: object) -> Any:
        return self._shifted(other) if isinstance(other, timedelta) else self._used()

    def __sub__(self, other: object) -> Any:
        return self._shifted(-other) if isinstance(other, timedelta) else self._used()

    __radd__ = __add__
    __rsub__ = __lt__ = __le__ = __gt__ = __ge__ = _used
    replace = astimezone = timestamp = isoformat = strftime = date = time = timetuple = _used
    __str__ = __format__ = _used
    year = month = day = hour = minute = second = microsecond = tzinfo = property(_used)


AS_OF_PLACEHOLDER: datetime = _AsOfPlaceholder(2000, 1, 1)
# What the placeholder renders as: AS_OF_TOKEN (indicators/lazy.py).


def timestamp(ts: datetime) -> exp.Expr:
    if isinstance(ts, _AsOfPlaceholder):
        text = AS_OF_TOKEN if ts.shift_us == 0 else f"{AS_OF_TOKEN}{ts.shift_us:+d}"
    else:
        text = timestamp_text(ts)
    return exp.cast(exp.Literal.string(text), TIMESTAMP)


def epoch(node: exp.Expr) -> exp.Expr:
    return EpochSeconds(this=node)


def count_if(condition: exp.Expr) -> exp.Expr:
    return exp.CountIf(this=condition)


def filtered(aggregate: exp.Expr, condition: exp.Expr) -> exp.Expr:
    return exp.Filter(this=aggregate, expression=exp.Where(this=condition))


def count(node: exp.Expr | None = None) -> exp.Expr:
    return exp.Count(this=node if node is not None else exp.Star())


def count_distinct(columns: Sequence[exp.Expr]) -> exp.Expr:
    """Distinct non-null tuples of `columns` (several columns: sqlglot renders it per dialect)."""
    return exp.Count(this=exp.Distinct(expressions=list(columns)))


def func(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.func(name, *args)


def as_double(node: exp.Expr) -> exp.Expr:
    return exp.cast(node, DOUBLE)


def as_text(node: exp.Expr) -> exp.Expr:
    return exp.cast(node, TEXT)


def div(a: exp.Expr, b: exp.Expr) -> exp.Expr:
    return exp.Div(this=exp.paren(a, copy=False), expression=exp.paren(b, copy=False))


def nullif(a: exp.Expr, b: exp.Expr) -> exp.Expr:
    return exp.Nullif(this=a, expression=b)


def coalesce(*args: exp.Expr) -> exp.Expr:
    return exp.Coalesce(this=args[0], expressions=list(args[1:]))


def all_of(conditions: Sequence[exp.Expr]) -> exp.Expr:
    return exp.and_(*conditions, copy=False) if len(conditions) > 1 else conditions[0]


def not_null(node: exp.Expr) -> exp.Expr:
    return exp.Not(this=exp.Is(this=node, expression=exp.Null()))


def share(condition: exp.Expr, of: exp.Expr, nulls: str = "ignore") -> exp.Expr:
    """Share of the rows where `of` is not null that meet `condition` (a null condition does not); 1.0 when there
    are none. With nulls="fail" the share is of all rows, so a null counts as a violation. count_if rather than
    avg(CASE ...): DuckDB can answer it from column statistics, several times faster."""
    judged = count() if nulls == "fail" else count(of.copy())
    met = coalesce(count_if(exp.and_(not_null(of.copy()), exp.paren(condition, copy=False))), lit(0))
    return coalesce(div(as_double(met), nullif(judged, lit(0))), lit(1.0))


def failing(condition: exp.Expr, of: exp.Expr, nulls: str = "ignore") -> exp.Expr:
    """The rows `share(condition, of, nulls)` counts as violations: `of` present and `condition` not true (a null
    condition does not meet it); with nulls="fail", a null `of` too."""
    unmet = exp.Not(this=exp.paren(coalesce(exp.paren(condition, copy=False), exp.false()), copy=False))
    if nulls == "fail":
        return exp.or_(exp.Is(this=of.copy(), expression=exp.Null()), unmet, copy=False)
    return exp.and_(not_null(of.copy()), unmet, copy=False)


def select(*projections: exp.Expr, from_: exp.Expr | None = None) -> exp.Select:
    query = exp.Select(expressions=list(projections))
    return query.from_(from_, copy=False) if from_ is not None else query


def fill(
    template: Template,
    columns: Mapping[str, str] | None = None,
    values: Mapping[str, exp.Expr] | None = None,
    tables: Mapping[str, str] | None = None,
) -> exp.Expr:
    """A copy of `tree` with placeholder columns renamed (quoted, keeping their table alias), placeholder columns in
    `values` replaced by those nodes, and placeholder tables by datasets (keeping their alias)."""
    columns, values, tables = columns or {}, values or {}, tables or {}

    def replace(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name in values:
            return values[node.name].copy()
        if isinstance(node, exp.Column) and node.name in columns:
            return col(columns[node.name], node.table or None)
        if isinstance(node, exp.Table) and not node.db and node.name in tables:
            replaced = table(tables[node.name])
            if node.alias:
                replaced.set("alias", exp.TableAlias(this=exp.to_identifier(node.alias)))
            return replaced
        return node

    def epochs(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Anonymous) and str(node.this).lower() == "epoch_seconds":
            return EpochSeconds(this=node.expressions[0])
        return node

    # Two passes: transform does not descend into a node it has just replaced.
    return template.tree.transform(replace).transform(epochs, copy=False)


# --- rendering ------------------------------------------------------------------------------------------------------

_NUMBER_TEXT = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"


def _regex(pattern: exp.Expr, dialect: str, full: bool) -> exp.Expr:
    if not isinstance(pattern, exp.Literal):
        raise TypeError("a regex is a literal")
    text = pattern.this
    if dialect == "postgres":
        text = text.replace(r"\b", r"\y")  # PostgreSQL's word boundary; \b is a backspace there
        return exp.Literal.string(f"^(?:{text})$" if full else text)
    return exp.Literal.string(f"^(?:{text})\\z" if full else text)  # Java: $ also matches before a final newline


# Each portable node is rendered as text by the dialect's generator (a subclass of sqlglot's, with one entry per
# node): no copy or rewrite of the tree per rendering, which cost more than the queries of a small database.
Render = Callable[[Any, Any], str]


def _epoch(dialect: str) -> Render:
    def render(g: Any, e: Any) -> str:
        x = g.sql(e, "this")
        if dialect == "spark":
            return f"(CAST(UNIX_MICROS(CAST({x} AS TIMESTAMP)) AS DOUBLE) / 1000000)"
        if dialect == "postgres":
            # date_part gives double precision; EXTRACT gives numeric (slower, and a Decimal to convert).
            return f"DATE_PART('epoch', {x})"
        return f"EPOCH({x})"

    return render


def _match(dialect: str, full: bool) -> Render:
    def render(g: Any, e: Any) -> str:
        x = g.sql(e, "this")
        if dialect == "duckdb":
            return f"{'REGEXP_FULL_MATCH' if full else 'REGEXP_MATCHES'}({x}, {g.sql(e, 'expression')})"
        operator = "~" if dialect == "postgres" else "RLIKE"
        return f"({x} {operator} {g.sql(_regex(e.expression, dialect, full))})"

    return render


_NUMBER_TEXT = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"


def _number_or_null(dialect: str) -> Render:
    def render(g: Any, e: Any) -> str:
        x = g.sql(e, "this")
        if dialect == "duckdb":
            return f"TRY_CAST({x} AS DOUBLE)"
        text, double = g.sql(TEXT.copy()), g.sql(DOUBLE.copy())
        operator = "~" if dialect == "postgres" else "RLIKE"
        numeric = g.sql(exp.Literal.string(_NUMBER_TEXT))
        return f"CASE WHEN CAST({x} AS {text}) {operator} {numeric} THEN CAST(CAST({x} AS {text}) AS {double}) END"

    return render


def _percentile(dialect: str) -> Render:
    def render(g: Any, e: Any) -> str:
        x, p = g.sql(e, "this"), g.sql(e, "fraction")
        if dialect == "postgres":
            return f"PERCENTILE_CONT({p}) WITHIN GROUP (ORDER BY {x})"
        if dialect == "spark":
            return f"PERCENTILE({x}, {p})"
        values = f"(LIST({x} ORDER BY {x}) FILTER (WHERE {x} IS NOT NULL))"
        position = f"((COUNT({x}) - 1) * CAST({p} AS DOUBLE))"  # a DECIMAL literal would make it exact: not theirs
        lo = f"{values}[CAST(FLOOR({position}) AS BIGINT) + 1]"
        hi = f"{values}[CAST(CEIL({position}) AS BIGINT) + 1]"
        return f"({lo} + ({hi} - {lo}) * ({position} - FLOOR({position})))"

    return render


@functools.cache  # on first use: sqlglot loads a dialect's modules when it is first asked for
def _dialect(name: str) -> Dialect:
    base = type(Dialect.get_or_raise(name))
    generator = base.generator_class
    transforms: dict[type[exp.Expr], Render] = {
        EpochSeconds: _epoch(name),
        FullMatch: _match(name, full=True),
        Search: _match(name, full=False),
        NumberOrNull: _number_or_null(name),
        Percentile: _percentile(name),
    }
    rendering_generator = type(
        f"Slo{generator.__name__}", (generator,), {"TRANSFORMS": {**generator.TRANSFORMS, **transforms}}
    )
    return type(f"Slo{base.__name__}", (base,), {"generator_class": rendering_generator})()  # type: ignore[no-any-return]


def render(tree: exp.Expr, dialect: str) -> str:
    """The SQL text of `tree` in `dialect` ("duckdb", "postgres", "spark")."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; one of {', '.join(DIALECTS)}")
    return tree.sql(dialect=_dialect(dialect))
