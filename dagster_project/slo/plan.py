"""The engine-neutral check plan: which SLOs can share one scan of their dataset, and which need their own query.

Grouping is the compiler's job so that every engine fuses the same way; the SQL itself belongs to the engines.
Order is deterministic (datasets, then SLO ids) so plans, outputs and generated files are stable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dagster_project.slo.domain import Slo

# Indicators that are one aggregate over their own dataset, so all of a dataset's can share one scan.
SCAN_KINDS = frozenset(
    {"max_age", "non_null_ratio", "in_range", "in_set", "matches_pattern", "not_in_future", "uniqueness", "no_pii"}
)


@dataclass(frozen=True)
class CheckPlan:
    slos: tuple[Slo, ...]
    scans: tuple[tuple[str, tuple[Slo, ...]], ...]  # (dataset, the SLOs computed in its one scan)
    singles: tuple[Slo, ...]  # each needs a query (or a procedure) of its own


def compile_plan(slos: Sequence[Slo]) -> CheckPlan:
    ordered = tuple(sorted(slos, key=lambda s: (s.dataset, s.id)))
    by_dataset: dict[str, list[Slo]] = {}
    for slo in ordered:
        if slo.kind in SCAN_KINDS:
            by_dataset.setdefault(slo.dataset, []).append(slo)
    scans = tuple((ds, tuple(items)) for ds, items in sorted(by_dataset.items()))
    singles = tuple(s for s in ordered if s.kind not in SCAN_KINDS)
    return CheckPlan(slos=ordered, scans=scans, singles=singles)
