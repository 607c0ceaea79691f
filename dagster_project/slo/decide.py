"""Pass or fail, and the level a value is at, from an observed value and the SLO's levels: pure, and the only place
that decides."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from dagster_project.slo.domain import Slo, Threshold

# ok: every level met; warn: a warn SLO failed, or an error SLO met its threshold but not its warn level;
# fail: an error SLO failed its threshold; error: no value to judge.
Level = Literal["ok", "warn", "fail", "error"]


def passes(observed: float | None, threshold: Threshold) -> bool | None:
    """True or False; None when there is nothing to judge (the check could not produce a value)."""
    if observed is None:
        return None
    if threshold.min is not None and observed < threshold.min:
        return False
    return not (threshold.max is not None and observed > threshold.max)


def margin(observed: float, threshold: Threshold) -> float:
    """How far inside its threshold a value is (negative: outside), in the indicator's unit."""
    inside = []
    if threshold.min is not None:
        inside.append(observed - threshold.min)
    if threshold.max is not None:
        inside.append(threshold.max - observed)
    return min(inside)


def worst(values: Sequence[float], threshold: Threshold) -> int:
    """Index of the value that decides a grouped SLO: the one least inside (or furthest outside) its threshold;
    the first of equals."""
    return min(range(len(values)), key=lambda k: margin(values[k], threshold))


def level(observed: float | None, slo: Slo) -> Level:
    """Where the value stands against the SLO's levels. Budgets follow `passes(observed, slo.threshold)` only."""
    passed = passes(observed, slo.threshold)
    if passed is None:
        return "error"
    if not passed:
        return "fail" if slo.severity == "error" else "warn"
    if slo.warn is not None and not passes(observed, slo.warn):
        return "warn"
    return "ok"
