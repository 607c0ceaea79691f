"""Error budgets and burn rates from an SLI and an objective, and shares of SLOs meeting their objective. Pure
functions of numbers; the SLIs themselves come from slo/attainment.py.

Budget consumed may exceed 1 (remaining below zero): how far over budget matters to on-call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    sli: float
    objective: float
    met: bool  # attainment: the SLI meets the objective
    budget: float  # the error budget: 1 - objective
    consumed: float  # share of the budget used; may exceed 1
    remaining: float  # 1 - consumed; may go below zero


def budget(sli: float, objective: float) -> Budget:
    consumed = burn_rate(sli, objective)  # over the whole window, the share of the budget spent
    return Budget(sli, objective, sli >= objective, 1.0 - objective, consumed, 1.0 - consumed)


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
