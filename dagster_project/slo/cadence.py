"""When things should happen, derived from the spec: build and check schedules from the use cases' usage patterns,
and the freshness window of each built table from the freshness SLOs. Pure, so Dagster's definitions only wrap it.

A product that declares no use case yet (a spec may start with an owner and one SLO) has no consumer to ask for a
cadence: its SLOs are checked hourly by default (DEFAULT_CHECK_CADENCE), and it asks for no build.

A table cannot be fresher than its last build, so a max-age SLO on a table, or on any table it is built from, bounds
how long the table may go without being rebuilt: the tightest such bound is its freshness window.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from dagster_project.slo.domain import Slo
from dagster_project.spec.models import SpecFile


@dataclass(frozen=True)
class Cadence:
    cron: str
    use_cases: tuple[str, ...]  # the use cases asking for it (or products, by default), for the description


def _grouped(pairs: Iterable[tuple[str, str]]) -> list[Cadence]:
    by_cron: dict[str, list[str]] = {}
    for cron, use_case in pairs:
        by_cron.setdefault(" ".join(cron.split()), []).append(use_case)
    return [Cadence(cron, tuple(sorted(set(ids)))) for cron, ids in sorted(by_cron.items())]


def build_cadences(specs: Sequence[SpecFile]) -> list[Cadence]:
    """One per distinct update cadence: when the data product is rebuilt."""
    return _grouped(
        (u.usage.update_cadence, f"{s.data_product.id}.{u.id}") for s in specs for u in s.data_product.use_cases
    )


# Hourly, on the hour: how often `check_slos` runs for a product whose card names no use case (and so no cadence).
DEFAULT_CHECK_CADENCE = "0 * * * *"


def check_cadences(specs: Sequence[SpecFile]) -> list[Cadence]:
    """One per distinct check cadence. A use case without one is checked by its builds (their asset checks) when
    its product declares a build, else when its data is updated (its update_cadence: nothing here builds it); a
    product without use cases hourly (DEFAULT_CHECK_CADENCE), named `<product> (no use cases)`."""
    asked = [
        (u.usage.check_cadence, f"{s.data_product.id}.{u.id}")
        for s in specs
        for u in s.data_product.use_cases
        if u.usage.check_cadence is not None
    ]
    asked += [
        (u.usage.update_cadence, f"{s.data_product.id}.{u.id} (when updated)")
        for s in specs
        if s.build is None
        for u in s.data_product.use_cases
        if u.usage.check_cadence is None
    ]
    defaults = [
        (DEFAULT_CHECK_CADENCE, f"{s.data_product.id} (no use cases)") for s in specs if not s.data_product.use_cases
    ]
    return _grouped([*asked, *defaults])


@dataclass(frozen=True)
class FreshnessWindow:
    fail_s: float
    warn_s: float | None  # a warn-severity bound tighter than the failing one, if any
    slos: tuple[str, ...]  # the SLOs it comes from


def upstream(table: str, deps: Mapping[str, Sequence[str]]) -> set[str]:
    """Every table `table` is built from, directly or not (`deps`: table -> the tables it is built from)."""
    seen: set[str] = set()
    todo = [table]
    while todo:
        for dep in deps.get(todo.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def freshness_windows(slos: Sequence[Slo], deps: Mapping[str, Sequence[str]]) -> dict[str, FreshnessWindow]:
    """For each table in `deps` (table -> the tables it is built from) bounded by a max-age SLO on itself or
    upstream: fail after the tightest error-severity bound (or warn-severity, when there is no error one); warn
    after the tightest warn bound (a warn SLO's, or an error SLO's warn level) below it."""
    ages = [s for s in slos if s.definition.age and s.threshold.max is not None]
    out = {}
    for table in sorted(deps):
        lineage = {table} | upstream(table, deps)
        relevant = [s for s in ages if s.dataset in lineage]
        if not relevant:
            continue
        errors = [s.threshold.max for s in relevant if s.severity == "error" and s.threshold.max is not None]
        warns = [s.threshold.max for s in relevant if s.severity == "warn" and s.threshold.max is not None]
        warns += [s.warn.max for s in relevant if s.warn is not None and s.warn.max is not None]
        fail = min(errors) if errors else min(warns)
        warn = min(warns) if warns and min(warns) < fail else None
        out[table] = FreshnessWindow(fail, warn, tuple(sorted(s.id for s in relevant)))
    return out
