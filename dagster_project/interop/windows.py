"""The burn-rate windows of a wire-spec SLO, and durations spelled the ways other tools read them.

The windows come from the same data as the generated rules (slo/burn_rates.yaml through slo/alert_windows.py's
window_sets and scaled); what each SLO alerts on follows the same policy (error SLOs page and ticket, warn SLOs
ticket or, by the product's alerting.warn, nothing; `alert:` caps it). tests/test_sloth.py compares the result with
the rules `slo rules` generates, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

from dataclasses import dataclass

from dagster_project.slo.alert_windows import scaled, window_sets
from dagster_project.spec.durations import parse_duration
from dagster_project.spec.models import Slo, SpecFile


@dataclass(frozen=True)
class Pair:
    severity: str  # page | ticket
    period_s: int
    speed: str  # quick | slow: the first and second pair of a severity in the set
    budget_percent: float
    long_s: int
    short_s: int
    factor: float


def seconds(text: str) -> float:
    return parse_duration(text).total_seconds()


def period_s(slo: Slo) -> int:
    """The budget period: the longest window."""
    return int(max(seconds(w) for w in slo.windows))


def window_set(slo: Slo) -> list[Pair]:
    """The four pairs of the SLO's period: Sloth's set for 28d and 30d, the 30d set scaled for any other period."""
    reference, sets = window_sets()
    period = period_s(slo)
    own = sets.get(period)
    pairs = []
    for i, a in enumerate(own if own is not None else sets[reference]):
        long_s = int(a.long_s) if own is not None else scaled(a.long_s, period, reference)
        short_s = int(a.short_s) if own is not None else scaled(a.short_s, period, reference)
        budget_percent = round(a.factor * a.long_s / (period if own is not None else reference) * 100, 9)
        pairs.append(Pair(a.severity, period, ("quick", "slow")[i % 2], budget_percent, long_s, short_s, a.factor))
    return pairs


def alert_level(slo: Slo, spec: SpecFile) -> str:
    level = slo.alert or ("page" if slo.severity == "error" else spec.data_product.alerting.warn)
    return "ticket" if level == "page" and slo.severity == "warn" else level


def routed_pairs(slo: Slo, spec: SpecFile) -> list[Pair]:
    """The pairs the SLO alerts on: those its level allows and that can fire (factor x budget below 1)."""
    allowed = {"page": {"page", "ticket"}, "ticket": {"ticket"}, "none": set()}[alert_level(slo, spec)]
    budget = 1.0 - slo.objective
    return [p for p in window_set(slo) if p.severity in allowed and p.factor * budget < 1.0]


def all_windows(slo: Slo) -> list[int]:
    """Every window the generated rules record an error ratio over: the set's windows and the period."""
    return sorted({w for p in window_set(slo) for w in (p.long_s, p.short_s)} | {period_s(slo)})


def prometheus_duration(total_s: float) -> str:
    """A duration as Prometheus prints it (common/model Duration.String, which Sloth uses for its rule names and
    its {{.window}}): years and weeks only when exact (28d is 4w, 30d stays 30d), then d, h, m, s, ms."""
    ms = round(total_s * 1000)
    if ms == 0:
        return "0s"
    out = ""
    for unit, size, exact in (
        ("y", 365 * 86_400_000, True),
        ("w", 7 * 86_400_000, True),
        ("d", 86_400_000, False),
        ("h", 3_600_000, False),
        ("m", 60_000, False),
        ("s", 1000, False),
        ("ms", 1, False),
    ):
        if exact and ms % size:
            continue
        if ms >= size:
            out += f"{ms // size}{unit}"
            ms %= size
    return out


def shorthand(total_s: float) -> str:
    """OpenSLO's duration-shorthand (one positive integer and one unit): days, hours or minutes, the largest that
    divides the duration exactly (28d, not 4w, as OpenSLO's own examples write it); below a whole minute it cannot
    be written (ValueError)."""
    whole = round(total_s)
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if whole >= size and whole % size == 0 and whole == total_s:
            return f"{whole // size}{unit}"
    raise ValueError(f"{total_s:g}s is not a whole number of minutes, which OpenSLO durations need")
