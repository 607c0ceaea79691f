"""Pass or fail, from an observed value and a threshold: pure, and the only place that decides."""

from __future__ import annotations

from dagster_project.slo.domain import Threshold


def passes(observed: float | None, threshold: Threshold) -> bool | None:
    """True or False; None when there is nothing to judge (the check could not produce a value)."""
    if observed is None:
        return None
    return observed >= threshold.value if threshold.bound == "min" else observed <= threshold.value
