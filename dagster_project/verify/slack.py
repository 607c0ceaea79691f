"""Warnings (not errors) about SLOs a healthy pipeline cannot meet or that their checks cannot see, from the use
cases' cadences:

- a freshness (max_age) threshold must leave slack over the longest gap between two builds of its use case
  (`update_cadence`) plus a build's duration - the latest measured `build_duration` of the product in the results
  store, or DEFAULT_BUILD_MARGIN_S when there is none. Otherwise data is charged as stale every cycle.
- an SLO window shorter than the longest gap between two checks of its use case (`check_cadence`, or its builds when
  it has none) holds no evaluation most of the time.

An SLO's use case is the one it protects; an SLO protecting a goal takes the use cases that list its dataset.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

from dagster_project.indicators.registry import REGISTRY
from dagster_project.results.address import StoreAddress
from dagster_project.slo.domain import format_value
from dagster_project.spec.cron import CronError, max_gap_seconds
from dagster_project.spec.durations import parse_duration
from dagster_project.spec.models import MaxAge, SpecFile, UseCase
from dagster_project.spec.models import Slo as SpecSlo
from dagster_project.spec.validate import LoadedSpec, SpecIssue

# Assumed build duration when the results store has none measured: an hour.
DEFAULT_BUILD_MARGIN_S = 3600.0


@functools.cache
def _gap(cron: str) -> float | None:
    try:
        return max_gap_seconds(cron)
    except CronError:
        return None  # reported as an error by validation


def _use_cases(spec: SpecFile, slo: SpecSlo) -> list[UseCase]:
    cases = spec.data_product.use_cases
    if slo.protects is not None and slo.protects.use_case is not None:
        return [u for u in cases if u.id == slo.protects.use_case]
    return [u for u in cases if slo.dataset in u.datasets]


def _text(seconds: float) -> str:
    return format_value(seconds, "duration")


def measured_build_seconds(specs: Sequence[SpecFile], results: StoreAddress) -> dict[str, float]:
    """product -> the latest observed build_duration in the results store at `results` (products without one left
    out). Raises ResultsStoreError when the file is not a results store."""
    from dagster_project.results.store import ResultsStore

    out: dict[str, float] = {}
    with ResultsStore(results) as store:
        for spec in specs:
            product = spec.data_product.id
            ids = [s.id for s in spec.slos if REGISTRY[s.indicator.type].about_the_build]
            measured = [
                e for i in ids for e in store.evaluations(slo_id=i) if e.product == product and e.observed is not None
            ]
            if measured:
                out[product] = max(measured, key=lambda e: (e.evaluated_at, e.seq)).observed or 0.0
    return out


def slack_warnings(specs: Sequence[LoadedSpec], build_s: Mapping[str, float] | None = None) -> list[SpecIssue]:
    """Every freshness threshold without slack and every window shorter than its checks' cadence. `build_s` is
    product -> measured build duration (see measured_build_seconds)."""
    build_s = build_s or {}
    warnings: list[SpecIssue] = []
    for s in specs:
        product = s.spec.data_product.id
        build = build_s.get(product)
        build_text = (
            f"the latest measured build takes {_text(build)}"
            if build is not None
            else f"a build is assumed to take up to {_text(DEFAULT_BUILD_MARGIN_S)} (none measured)"
        )
        for i, slo in enumerate(s.spec.slos):
            cases = _use_cases(s.spec, slo)
            if isinstance(slo.indicator, MaxAge) and isinstance(slo.threshold.max, str):
                threshold = parse_duration(slo.threshold.max).total_seconds()
                gaps = [(g, u) for u in cases if (g := _gap(u.usage.update_cadence)) is not None]
                if gaps:
                    gap, case = max(gaps, key=lambda p: p[0])
                    needed = gap + (DEFAULT_BUILD_MARGIN_S if build is None else build)
                    if threshold <= needed:
                        warnings.append(
                            s.issue(
                                ("slos", i, "threshold", "max"),
                                f"warning: {slo.threshold.max} leaves no slack: use case {case.id} is rebuilt as "
                                f"rarely as every {_text(gap)} ({case.usage.update_cadence!r}) and {build_text}, so "
                                f"healthy data is up to {_text(needed)} old before each build finishes; allow more "
                                "(plus the sources' own delay)",
                            )
                        )
            checks = [(g, u) for u in cases if (g := _gap(u.usage.check_cadence or u.usage.update_cadence)) is not None]
            if not checks:
                continue
            gap, case = max(checks, key=lambda p: p[0])
            for j, window in enumerate(slo.windows):
                if parse_duration(window).total_seconds() < gap:
                    cron = case.usage.check_cadence or case.usage.update_cadence
                    warnings.append(
                        s.issue(
                            ("slos", i, "windows", j),
                            f"warning: window {window} is shorter than the check cadence of use case {case.id} "
                            f"(every {_text(gap)} at most, {cron!r}): it holds no evaluation most of the time",
                        )
                    )
    return sorted(warnings)
