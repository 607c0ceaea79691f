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

The mapping is one per indicator, whatever the engine: on PostgreSQL (GX's SQL datasource) and Spark (its Spark
datasource) GX expresses the same SLOs as on DuckDB, and the rest is judged natively there too (engines/gx.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dagster_project.indicators.base import BatchColumn, Cast, GxBound, MissingResult, Part
from dagster_project.indicators.registry import REGISTRY
from dagster_project.indicators.uniqueness import key_column
from dagster_project.slo.domain import Slo

__all__ = [
    "GX_KINDS",
    "NATIVE_ONLY_REASONS",
    "Batch",
    "BatchColumn",
    "Cast",
    "MissingResult",
    "Part",
    "Translation",
    "batches",
    "expressible",
    "key_column",
    "observed",
    "translate",
]

# Each indicator's mapping lives in its module (indicators/<type>.py: gx_parts, gx_observed); this is the engine's view.
GX_KINDS = frozenset(name for name, d in REGISTRY.items() if d.gx)
NATIVE_ONLY_REASONS = {name: d.gx_reason for name, d in REGISTRY.items() if d.gx_reason is not None}


@dataclass(frozen=True)
class Translation:
    slo: Slo
    parts: tuple[Part, ...]
    batch: tuple[BatchColumn, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """The dataset columns the batch is made from."""
        return tuple(dict.fromkeys(c for b in self.batch for c in b.source))


def expressible(slo: Slo) -> bool:
    """GX has a mapping for its indicator (and this SLO's settings), over every row (a where/partition filter is
    judged natively)."""
    return slo.definition.gx and slo.indicator.gx_refusal() is None and slo.filter is None and not slo.group_by


def _bound(slo: Slo) -> GxBound:
    """GX's `mostly` for a ratio SLO (its minimum, clamped to what GX accepts), and the minimum itself."""
    low = slo.threshold.min
    if low is not None:
        return GxBound(min(1.0, max(0.0, low)), low)
    return GxBound(0.0, None)


def translate(slo: Slo) -> Translation:
    if not expressible(slo):
        reason = (
            NATIVE_ONLY_REASONS.get(slo.kind)
            or slo.indicator.gx_refusal()
            or (
                "its rows are filtered or grouped"
                if slo.filter is not None or slo.group_by
                else "not expressible in GX"
            )
        )
        raise ValueError(f"{slo.kind} is native-only: {reason}")
    parts, batch = slo.indicator.gx_parts(_bound(slo))
    return Translation(slo, parts, batch)


def observed(translation: Translation, results: Sequence[Mapping[str, Any]]) -> float:
    """The SLO's observed value from its parts' GX results (in part order)."""
    if not expressible(translation.slo):
        raise ValueError(f"{translation.slo.kind} is native-only")
    return translation.slo.indicator.gx_observed(results)


@dataclass(frozen=True)
class Batch:
    """One GX data asset over a dataset: the columns it reads, each under the dataset column's own name, and the SLOs
    whose suite reads it. `suffix` is "" for a dataset's first batch; a column that two SLOs need cast differently
    (as is for one, as text for another) cannot be one column of one batch under its real name, so the second cast
    goes to a further batch over the same dataset, named by what it casts (`as_text`, `as_number`)."""

    suffix: str
    items: tuple[Translation, ...]
    columns: tuple[BatchColumn, ...]


_CAST_WORDS = {"VARCHAR": "text", "DOUBLE": "number"}


def batches(items: Sequence[Translation], unchanged: Callable[[BatchColumn], bool] = lambda _: False) -> list[Batch]:
    """The fewest batches, in order, such that every column name in one batch has one cast. `unchanged` says when a
    cast changes nothing (text cast to text): such a column is read as is and shares the batch with its other uses."""
    groups: list[tuple[list[Translation], dict[str, BatchColumn]]] = []
    for t in items:
        columns = [replace(c, cast="as_is") if c.cast != "as_is" and unchanged(c) else c for c in t.batch]
        fits = [g for g in groups if all(g[1].get(c.name, c) == c for c in columns)]
        if not fits:
            groups.append(([], {}))
        members, named = fits[0] if fits else groups[-1]
        members.append(Translation(t.slo, t.parts, tuple(columns)))
        named.update({c.name: c for c in columns})
    out: list[Batch] = []
    taken: set[str] = set()
    for index, (members, named) in enumerate(groups):
        words = sorted({_CAST_WORDS[c.cast] for c in named.values() if c.cast in _CAST_WORDS})
        suffix = "" if index == 0 else "as_" + "_".join(words or ["is"])
        suffix = suffix if suffix not in taken else f"{suffix}_{index}"
        taken.add(suffix)
        out.append(Batch(suffix, tuple(members), tuple(named.values())))
    return out
