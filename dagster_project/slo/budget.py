"""SLO math over the results history: SLIs, attainment, error budgets and burn rates. Pure functions of numbers.

Two SLIs per window, as the issue asks:
- by occurrences: good evaluations / all evaluations in the window;
- by time: each evaluation's outcome holds until the next one, and the SLI is the good share of the time the state
  was known. For freshness (max age) SLOs the age keeps growing between checks: every evaluation reveals the data's
  update time (evaluated-at minus the observed age), the age at any instant is that instant minus the newest update
  seen by then, and the bad time is when it exceeded the threshold - so a table that went stale between two checks
  is charged from the moment it crossed the line, not from the next check.

An evaluation that could not run (passed is None) counts as bad: an SLO that cannot be checked is not evidence that
the promise is kept. Budget consumed may exceed 1 (remaining below zero): how far over budget matters to on-call.
All times are unix seconds; windows are (end - length, end].
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    at: float  # evaluated-at, unix seconds
    passed: bool | None
    observed: float | None = None


def _good(point: Point) -> bool:
    return point.passed is True


def occurrence_sli(points: Sequence[Point], start: float, end: float) -> float | None:
    """Good evaluations / evaluations in (start, end]; None when there are none."""
    inside = [p for p in points if start < p.at <= end]
    return sum(1 for p in inside if _good(p)) / len(inside) if inside else None


def time_sli(points: Sequence[Point], start: float, end: float) -> float | None:
    """Good share of the known time in (start, end]: each outcome holds from its evaluation until the next. Time
    before the first evaluation (ever) is unknown and left out. `points` sorted by `at`."""
    good = known = 0.0
    for i, point in enumerate(points):
        if point.at >= end:
            break
        until = points[i + 1].at if i + 1 < len(points) else end
        lo, hi = max(point.at, start), min(until, end)
        if hi <= lo:
            continue
        known += hi - lo
        if _good(point):
            good += hi - lo
    return good / known if known > 0 else None


def update_times(points: Iterable[Point]) -> list[float]:
    """The data's update times revealed by max-age evaluations (evaluated-at - observed age), sorted, distinct."""
    return sorted({p.at - p.observed for p in points if p.observed is not None})


def freshness_time_sli(points: Sequence[Point], threshold_s: float, start: float, end: float) -> float | None:
    """Time SLI of a max-age SLO, charging staleness from the moment the data's age crossed the threshold.

    Between evaluations the age is `t - U`, U the newest update time seen by an evaluation at or before t (an
    update counts from the evaluation that first saw it: a check that reported stale data stays bad, whatever a
    later check reveals about back-dated rows). The stretch after an evaluation that could not run is bad, as for
    every SLI. Time before the first evaluation is unknown. `points` sorted by `at`."""
    bad = known = 0.0
    newest: float | None = None
    for i, point in enumerate(points):
        if point.at >= end:
            break
        if point.observed is not None:
            update = point.at - point.observed
            newest = update if newest is None else max(newest, update)
        until = points[i + 1].at if i + 1 < len(points) else end
        lo, hi = max(point.at, start), min(until, end)
        if hi <= lo:
            continue
        known += hi - lo
        if point.passed is None or newest is None:
            bad += hi - lo
        else:  # age t - newest exceeds the threshold from newest + threshold on
            bad += max(0.0, hi - max(lo, newest + threshold_s))
    return 1.0 - bad / known if known > 0 else None


@dataclass(frozen=True)
class Budget:
    sli: float
    objective: float
    met: bool  # attainment: the SLI meets the objective
    budget: float  # the error budget: 1 - objective
    consumed: float  # share of the budget used; may exceed 1
    remaining: float  # 1 - consumed; may go below zero


def budget(sli: float, objective: float) -> Budget:
    allowed = 1.0 - objective
    consumed = (1.0 - sli) / allowed if allowed > 0 else (0.0 if sli >= 1.0 else float("inf"))
    return Budget(sli, objective, sli >= objective, allowed, consumed, 1.0 - consumed)


def burn_rate(sli: float, objective: float) -> float:
    """How many times faster than allowed the budget burns: 1 spends exactly the budget over the SLO window."""
    allowed = 1.0 - objective
    return (1.0 - sli) / allowed if allowed > 0 else (0.0 if sli >= 1.0 else float("inf"))


@dataclass(frozen=True)
class Share:
    meeting: int
    total: int

    @property
    def ratio(self) -> float | None:
        return self.meeting / self.total if self.total else None


def share_meeting(budgets: Iterable[Budget | None]) -> Share:
    """Of the SLOs with an SLI in the window, how many meet their objective (per dimension, per data product)."""
    known = [b for b in budgets if b is not None]
    return Share(sum(1 for b in known if b.met), len(known))


def adherence(points: Iterable[Point], start: float, end: float) -> Share:
    """Checks passed / checks applied in (start, end], over any set of SLOs: the reference platform's figure."""
    inside = [p for p in points if start < p.at <= end]
    return Share(sum(1 for p in inside if _good(p)), len(inside))
