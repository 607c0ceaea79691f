"""The burn-rate alert windows of each SLO: the SRE workbook's pairs (burn_rates.yaml), scaled to the SLO's period.
Shared by the exporter (which exports the error ratio over each of these windows, computed from the results
store) and the rules generator (whose alerts compare those ratios with the factors), so both use the same windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from dagster_project.slo.domain import Slo
from dagster_project.spec.durations import parse_duration


@dataclass(frozen=True)
class BurnAlert:
    severity: str
    long_s: float
    short_s: float
    factor: float


@cache
def burn_alerts() -> tuple[float, tuple[BurnAlert, ...]]:
    """(the reference period in seconds, the alert pairs) from burn_rates.yaml."""
    data = yaml.safe_load(resources.files("dagster_project.slo").joinpath("burn_rates.yaml").read_text())
    alerts = tuple(
        BurnAlert(
            a["severity"],
            parse_duration(a["long"]).total_seconds(),
            parse_duration(a["short"]).total_seconds(),
            float(a["factor"]),
        )
        for a in data["alerts"]
    )
    return float(data["period_days"]) * 86400, alerts


def scaled(seconds: float, period_s: float, reference_s: float) -> int:
    """A window scaled from the reference period to the SLO's, rounded to whole minutes (at least one)."""
    return max(60, round(seconds * period_s / reference_s / 60) * 60)


def period(slo: Slo) -> float:
    """The SLO's budget period: its longest window."""
    return max(slo.windows_s)


def pairs(slo: Slo) -> list[tuple[BurnAlert, int, int]]:
    """(alert, long window, short window) for the SLO, keeping only pairs that can fire: a factor times the budget
    at or above 1 asks for more than 100% errors (objectives below about 0.93 cannot page at 14.4x)."""
    reference, alerts = burn_alerts()
    budget = 1.0 - slo.objective
    return [
        (a, scaled(a.long_s, period(slo), reference), scaled(a.short_s, period(slo), reference))
        for a in alerts
        if a.factor * budget < 1.0
    ]


def windows(slo: Slo) -> list[int]:
    """Every window the SLO's error ratio is needed over: its alert windows and its period."""
    return sorted({w for _a, long_s, short_s in pairs(slo) for w in (long_s, short_s)} | {int(period(slo))})
