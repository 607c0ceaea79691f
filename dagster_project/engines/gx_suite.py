"""Which SLOs Great Expectations can express, as which expectations, and how their results give back the SLO's
observed value. Pure: no GX import here (it costs seconds), so the translation is cheap to test and to reason about.

GX computes; the observed value is rebuilt from GX's own counts so that it means exactly what the native engine's
number means, and pure code (slo/decide.py) decides pass or fail for both. Each expectation still carries the SLO's
threshold (`mostly`, `min_value`) so GX's own success and its Data Docs tell the same story.

Not expressible, so native-only:
- freshness (`max_age`, and `row_volume` against a trailing baseline) and `not_in_future`: relative to the
  evaluation time; GX has no "now" (its docs suggest a column max between fixed bounds);
- performance (`build_duration`, `query_latency`, `query_availability`): about running things, not about rows;
- governance (`no_pii`): patterns across every text column of a table;
- `schema`: the expected types are DuckDB types, which a GX batch (a pandas frame) no longer has;
- `referential_integrity`, `reconciliation`, `custom_sql`: they span tables or are SQL of their own, which GX runs
  only on its SQL path, and that path fails silently on DuckDB (shared/NOTES.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from dagster_project.slo.domain import Slo

GX_KINDS = frozenset({"non_null_ratio", "in_range", "in_set", "matches_pattern", "uniqueness"})

NATIVE_ONLY_REASONS = {
    "max_age": "freshness is relative to the evaluation time, which GX has no expectation for",
    "row_volume": "volume against a trailing baseline is relative to the evaluation time",
    "not_in_future": "the bound is relative to the evaluation time, which GX has no expectation for",
    "build_duration": "performance is about running the build, not about rows",
    "query_latency": "performance is about running a consumer query, not about rows",
    "query_availability": "performance is about running a consumer query, not about rows",
    "no_pii": "governance patterns span every text column of the table",
    "schema": "expected types are DuckDB types, which a GX pandas batch does not keep",
    "referential_integrity": "spans two tables (GX's SQL path, which could, fails silently on DuckDB)",
    "reconciliation": "spans two tables (GX's SQL path, which could, fails silently on DuckDB)",
    "custom_sql": "SQL of its own (GX's SQL path fails silently on DuckDB)",
}


@dataclass(frozen=True)
class Part:
    """One expectation: its GX class name and arguments. `not_null_first` becomes GX's row_condition (the listed
    columns are not null), kept as plain names so this module needs no GX objects."""

    expectation: str
    kwargs: dict[str, Any]
    not_null_first: tuple[str, ...] = ()


Cast = Literal["as_is", "VARCHAR", "DOUBLE", "key"]


@dataclass(frozen=True)
class BatchColumn:
    """A column of the snapshot GX reads, and how it is made from the dataset's columns, so that GX compares what
    the native engine compares: text as DuckDB spells it (patterns, sets of strings), numbers as DOUBLE (sets of
    numbers), a compound key as one value (null when any part is, else a JSON array of the parts)."""

    name: str
    source: tuple[str, ...]
    cast: Cast = "as_is"


@dataclass(frozen=True)
class Translation:
    slo: Slo
    parts: tuple[Part, ...]
    batch: tuple[BatchColumn, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """The dataset columns the batch is made from."""
        return tuple(dict.fromkeys(c for b in self.batch for c in b.source))


def _as_is(*columns: str) -> tuple[BatchColumn, ...]:
    return tuple(BatchColumn(c, (c,)) for c in columns)


def _cast(column: str, cast: Cast) -> BatchColumn:
    return BatchColumn(f"{column}::{cast}", (column,), cast)


def key_column(columns: tuple[str, ...]) -> str:
    return "(" + ", ".join(columns) + ")"


def expressible(slo: Slo) -> bool:
    return slo.kind in GX_KINDS


def _mostly(slo: Slo) -> float:
    """GX's `mostly` for a ratio SLO: its minimum, clamped to what GX accepts."""
    return min(1.0, max(0.0, slo.threshold.value)) if slo.threshold.bound == "min" else 0.0


def _anchored(regex: str) -> str:
    """The native engine full-matches; GX's pandas path searches. \\Z, not $, which also matches before a newline."""
    return f"^(?:{regex})\\Z"


def translate(slo: Slo) -> Translation:
    p, mostly = slo.params, _mostly(slo)
    if slo.kind == "non_null_ratio":
        # Rows with every column present = rows minus, for each column, the rows where it is the first null one.
        # Each part counts those: column k null among rows whose columns before k are present.
        columns = tuple(p["columns"])
        parts = tuple(
            Part("ExpectColumnValuesToNotBeNull", {"column": c, "mostly": mostly}, not_null_first=columns[:k])
            for k, c in enumerate(columns)
        )
        return Translation(slo, parts, _as_is(*columns))
    if slo.kind == "in_range":
        kwargs = {"column": p["column"], "min_value": p.get("min"), "max_value": p.get("max"), "mostly": mostly}
        return Translation(slo, (Part("ExpectColumnValuesToBeBetween", kwargs),), _as_is(p["column"]))
    if slo.kind == "in_set":
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in p["values"])
        column = _cast(p["column"], "DOUBLE" if numeric else "VARCHAR")
        values = [float(v) for v in p["values"]] if numeric else [str(v) for v in p["values"]]
        kwargs = {"column": column.name, "value_set": values, "mostly": mostly}
        return Translation(slo, (Part("ExpectColumnValuesToBeInSet", kwargs),), (column,))
    if slo.kind == "matches_pattern":
        column = _cast(p["column"], "VARCHAR")
        kwargs = {"column": column.name, "regex": _anchored(p["regex"]), "mostly": mostly}
        return Translation(slo, (Part("ExpectColumnValuesToMatchRegex", kwargs),), (column,))
    if slo.kind == "uniqueness":
        columns = tuple(p["columns"])
        batch = _as_is(*columns) if len(columns) == 1 else (BatchColumn(key_column(columns), columns, "key"),)
        name = batch[0].name
        kwargs = {"column": name, "min_value": slo.threshold.value if slo.threshold.bound == "min" else None}
        # The second part counts the keys present: none present is 1.0, as natively (GX's proportion says 0).
        parts = (
            Part("ExpectColumnProportionOfUniqueValuesToBeBetween", kwargs),
            Part("ExpectColumnValuesToNotBeNull", {"column": name, "mostly": 0.0}),
        )
        return Translation(slo, parts, batch)
    raise ValueError(f"{slo.kind} is native-only: {NATIVE_ONLY_REASONS.get(slo.kind, 'not expressible in GX')}")


class MissingResult(ValueError):
    """GX returned a result without the numbers the SLO needs: the silent failure of GX's SQL path on DuckDB looks
    exactly like this (success False, no counts), so it is an error, never a failed check."""


def _count(result: Mapping[str, Any], key: str) -> int:
    value = result.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise MissingResult(f"GX returned no {key}")
    return value


def _share_met(result: Mapping[str, Any], nulls: str = "ignore") -> float:
    """Share of the non-missing values GX found as expected; 1.0 when there are none (as natively). With
    nulls="fail", the share of all values (GX skips missing values, so they are counted back as violations); GX's
    own `mostly` still judges the present values only."""
    rows, missing = _count(result, "element_count"), _count(result, "missing_count")
    if nulls == "fail":
        return (rows - missing - _count(result, "unexpected_count")) / rows if rows else 1.0
    judged = rows - missing
    return 1.0 - _count(result, "unexpected_count") / judged if judged else 1.0


def observed(translation: Translation, results: Sequence[Mapping[str, Any]]) -> float:
    """The SLO's observed value from its parts' GX results (in part order)."""
    kind = translation.slo.kind
    if kind == "non_null_ratio":
        rows = _count(results[0], "element_count")
        first_nulls = sum(_count(r, "unexpected_count") for r in results)
        return 1.0 - first_nulls / rows if rows else 1.0
    if kind in ("in_range", "in_set", "matches_pattern"):
        return _share_met(results[0], translation.slo.params.get("nulls", "ignore"))
    if kind == "uniqueness":
        if _count(results[1], "element_count") == _count(results[1], "unexpected_count"):
            return 1.0  # no key present: nothing violates uniqueness
        value = results[0].get("observed_value")
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise MissingResult("GX returned no observed_value")
        return float(value)
    raise ValueError(f"{kind} is native-only")
