"""The burn-rate alert windows of each SLO: Sloth's standard sets for 30-day and 28-day periods (burn_rates.yaml),
and the 30-day set scaled to any other period. Shared by the exporter (which exports the error ratio over each of
these windows, computed from the results store) and the rules generator (whose alerts compare those ratios with
the factors), so both use the same windows. Which of the alerts an SLO raises (page, ticket, none) is decided here
too, from its severity and its spec's alerting policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import yaml

from dagster_project.slo.domain import Slo
from dagster_project.spec.durations import parse_duration
from dagster_project.spec.terms import AlertLevel

AlertSeverity = Literal["page", "ticket"]


@dataclass(frozen=True)
class BurnAlert:
    severity: AlertSeverity
    long_s: float
    short_s: float
    factor: float


def _seconds(text: str) -> float:
    return parse_duration(text).total_seconds()


@cache
def window_sets() -> tuple[float, dict[float, tuple[BurnAlert, ...]]]:
    """(the period other periods are scaled from, {period in seconds: its alert pairs}) from burn_rates.yaml."""
    data = yaml.safe_load(resources.files("dagster_project.slo").joinpath("burn_rates.yaml").read_text())
    sets = {}
    for period, alerts in data["window_sets"].items():
        period_s = _seconds(period)
        sets[period_s] = tuple(
            BurnAlert(
                a["severity"],
                _seconds(a["long"]),
                _seconds(a["short"]),
                # Sloth's GetBurnRateFactor: the budget share allowed in the long window, as a speed over the period.
                float(a["budget_percent"]) / 100 * period_s / _seconds(a["long"]),
            )
            for a in alerts
        )
    return _seconds(data["scale_from"]), sets


def scaled(seconds: float, period_s: float, reference_s: float) -> int:
    """A window scaled from the reference period to the SLO's, rounded to whole minutes (at least one)."""
    return max(60, round(seconds * period_s / reference_s / 60) * 60)


def period(slo: Slo) -> float:
    """The SLO's budget period: its longest window."""
    return max(slo.windows_s)


def _window_set(slo: Slo) -> list[tuple[BurnAlert, int, int]]:
    """(alert, long window, short window) of the SLO's period: Sloth's set when there is one, else scaled."""
    reference, sets = window_sets()
    own = sets.get(period(slo))
    if own is not None:
        return [(a, int(a.long_s), int(a.short_s)) for a in own]
    return [
        (a, scaled(a.long_s, period(slo), reference), scaled(a.short_s, period(slo), reference))
        for a in sets[reference]
    ]


def pairs(slo: Slo) -> list[tuple[BurnAlert, int, int]]:
    """(alert, long window, short window) for the SLO, keeping only pairs that can fire: a factor times the budget
    at or above 1 asks for more than 100% errors (objectives below about 0.93 cannot page at 14.4x)."""
    budget = 1.0 - slo.objective
    return [(a, long_s, short_s) for a, long_s, short_s in _window_set(slo) if a.factor * budget < 1.0]


def alert_level(slo: Slo) -> AlertLevel:
    """The most an SLO's burn raises: its spec's `alert`, else page for error SLOs and ticket for warn ones."""
    level = slo.alert or ("page" if slo.severity == "error" else "ticket")
    return "ticket" if level == "page" and slo.severity == "warn" else level  # validation refuses it; never page


def routed_pairs(slo: Slo) -> list[tuple[BurnAlert, int, int]]:
    """The pairs the SLO alerts on: all of them when it pages, the ticket pairs when it tickets, none for none.
    A warn SLO never pages (the spec refuses `alert: page` on it)."""
    allowed = {"page": {"page", "ticket"}, "ticket": {"ticket"}, "none": set()}[alert_level(slo)]
    return [p for p in pairs(slo) if p[0].severity in allowed]


def windows(slo: Slo) -> list[int]:
    """Every window the SLO's error ratio is needed over: all windows of its set (whether or not a pair can fire or
    is routed, so Sloth's series names all exist) and its period."""
    return sorted({w for _a, long_s, short_s in _window_set(slo) for w in (long_s, short_s)} | {int(period(slo))})
