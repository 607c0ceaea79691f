"""The SLO math over a results history, computed once: each SLO's SLIs, budgets and latest state per window, and the
shares per dimension. The exporter, the HTML report, `slo explain` and the CLI all render these objects; nothing
else computes an SLI. Pure: no I/O (exporter/history.py fills the histories from the store).

An evaluation is judged when it runs and history keeps that verdict: its outcome (`passed`, decided with the
threshold in force then) and, for an age indicator (max_age), the instant its data turned stale by the threshold in
force then (`good_until` = evaluated-at - observed age + threshold). Nothing re-decides the past from today's spec.

Two SLIs per window (end - length, end]:
- by occurrences: good evaluations / all evaluations in the window;
- by time: each evaluation's state holds until the next evaluation, and the SLI is the good share of the time the
  state was known (time before the first evaluation is unknown). An evaluation's state is good from its time until
  `good_until` and bad after: for a passed check of most indicators that is until the next evaluation; for a failed
  one or one that could not run (passed is None) the whole stretch is bad; for a freshness (max_age) check the age
  keeps growing after it, so the stretch turns bad when the age it revealed crosses the threshold. A rollback (a
  check that reveals older data than the one before) is therefore charged from the check that reveals it.

Budget consumed may exceed 1 (remaining below zero): how far over budget matters to on-call. Times are unix seconds.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from dagster_project.indicators.registry import REGISTRY
from dagster_project.slo.budget import Budget, Share, budget, share_meeting
from dagster_project.slo.domain import Slo

OUTCOMES = ("pass", "fail", "error")
# Indicators whose observed value is an age that grows after the check.
AGE_INDICATORS = frozenset(name for name, d in REGISTRY.items() if d.age)


def outcome(passed: bool | None) -> str:
    return "error" if passed is None else ("pass" if passed else "fail")


def good_until(
    indicator: str | None, at: float, passed: bool | None, observed: float | None, threshold: float
) -> float:
    """The verdict of one evaluation over time: the instant from which its state is bad (inf: good until the next
    evaluation). Decided with the evaluation's own threshold."""
    if passed is not True:
        return at
    if indicator in AGE_INDICATORS and observed is not None:
        return max(at, at - observed + threshold)  # when the age it revealed crosses its threshold
    return math.inf


@dataclass
class SloHistory:
    """One SLO's evaluations sorted by evaluated-at, with running sums: every window query is a couple of binary
    searches, whatever the length of the history."""

    at: list[float] = field(default_factory=list)
    passed: list[bool | None] = field(default_factory=list)
    observed: list[float | None] = field(default_factory=list)
    until: list[float] = field(default_factory=list)  # good_until of each evaluation
    warned: list[bool] = field(default_factory=list)  # at the warn level (its status was warn)
    good_count: list[int] = field(default_factory=lambda: [0])  # good_count[k] = good among the first k
    good_time: list[float] = field(default_factory=lambda: [0.0])  # good time over intervals [at[m], at[m+1]), m < k
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    dirty: bool = False  # sums out of date after an out-of-order insert; rebuilt before the next query

    def add(self, at: float, passed: bool | None, observed: float | None, until: float, warned: bool = False) -> None:
        """Evaluations in the order they were written; equal times keep that order (the later write is latest)."""
        self.totals[outcome(passed)] += 1
        if not self.dirty and (not self.at or at >= self.at[-1]):
            self._append(at, passed, observed, until, warned)
            return
        # An evaluation for an earlier time (a run with an older --as-of): insert it in place and rebuild the sums
        # once, before the next query, not once per row.
        k = bisect.bisect_right(self.at, at)
        self.at.insert(k, at)
        self.passed.insert(k, passed)
        self.observed.insert(k, observed)
        self.until.insert(k, until)
        self.warned.insert(k, warned)
        self.dirty = True

    def _append(self, at: float, passed: bool | None, observed: float | None, until: float, warned: bool) -> None:
        if self.at:
            self.good_time.append(self.good_time[-1] + self._good_in(len(self.at) - 1, self.at[-1], at))
        self.at.append(at)
        self.passed.append(passed)
        self.observed.append(observed)
        self.until.append(until)
        self.warned.append(warned)
        self.good_count.append(self.good_count[-1] + int(passed is True))

    def _good_in(self, k: int, lo: float, hi: float) -> float:
        """Good time in [lo, hi), a stretch within evaluation k's interval."""
        return max(0.0, min(hi, self.until[k]) - lo)

    def rebuild(self) -> None:
        """Recompute the running sums after out-of-order inserts."""
        self.dirty = False
        rows = list(zip(self.at, self.passed, self.observed, self.until, self.warned, strict=True))
        self.at, self.passed, self.observed, self.until, self.warned = [], [], [], [], []
        self.good_count, self.good_time = [0], [0.0]
        for row in rows:
            self._append(*row)

    def latest(self, now: float) -> int | None:
        """Index of the latest evaluation at or before now (one dated in the future is not "latest" yet)."""
        if self.dirty:
            self.rebuild()
        k = bisect.bisect_right(self.at, now)
        return k - 1 if k else None

    def occurrence(self, start: float, end: float) -> tuple[int, int]:
        """(good, all) evaluations in (start, end]."""
        if self.dirty:
            self.rebuild()
        i, j = bisect.bisect_right(self.at, start), bisect.bisect_right(self.at, end)
        return self.good_count[j] - self.good_count[i], j - i

    def _good_time_until(self, t: float) -> float:
        """Good time from the first evaluation up to t."""
        k = bisect.bisect_right(self.at, t)  # evaluations at or before t
        if k == 0:
            return 0.0
        return self.good_time[k - 1] + self._good_in(k - 1, self.at[k - 1], t)

    def time(self, start: float, end: float) -> tuple[float, float]:
        """(good time, known time) in (start, end]."""
        if self.dirty:
            self.rebuild()
        if not self.at:
            return 0.0, 0.0
        lo = max(start, self.at[0])
        if end <= lo:
            return 0.0, 0.0
        return self._good_time_until(end) - self._good_time_until(lo), end - lo


@dataclass(frozen=True)
class WindowFigures:
    window_s: float
    time_sli: float | None  # drives attainment, budgets and "objective met"
    occurrence_sli: float | None
    good_evaluations: int
    evaluations: int
    budget: Budget | None  # None while no time in the window is known


@dataclass(frozen=True)
class Latest:
    at: float
    passed: bool | None
    observed: float | None
    warned: bool = (
        False  # at the warn level: a warn SLO failed, or an error SLO met its threshold but not its warn level
    )


@dataclass(frozen=True)
class SloFigures:
    slo: Slo
    latest: Latest | None
    windows: tuple[WindowFigures, ...]  # in the order of slo.windows_s


def window_figures(slo: Slo, history: SloHistory, window_s: float, now: float) -> WindowFigures:
    start = now - window_s
    good, total = history.occurrence(start, now)
    good_time, known = history.time(start, now)
    time_sli = good_time / known if known > 0 else None
    b = None if time_sli is None else budget(time_sli, slo.objective)
    return WindowFigures(window_s, time_sli, good / total if total else None, good, total, b)


def error_ratio(slo: Slo, history: SloHistory, window_s: float, now: float) -> float | None:
    """1 - the time SLI over the window: what burn-rate alerts compare with their factors."""
    sli = window_figures(slo, history, window_s, now).time_sli
    return None if sli is None else 1.0 - sli


def slo_figures(slo: Slo, history: SloHistory | None, now: float) -> SloFigures:
    h = history if history is not None else SloHistory()
    k = h.latest(now)
    latest = None if k is None else Latest(h.at[k], h.passed[k], h.observed[k], h.warned[k])
    return SloFigures(slo, latest, tuple(window_figures(slo, h, w, now) for w in slo.windows_s))


@dataclass(frozen=True)
class GroupFigures:
    meeting: Share  # SLOs meeting their objective, of those with a time SLI in the window
    adherence: Share  # checks passed / checks applied in the window


def group_figures(figures: Iterable[SloFigures]) -> dict[tuple[str, str, float], GroupFigures]:
    """(product, dimension or "all", window length) -> the shares of its SLOs, for every window any SLO has."""
    budgets: dict[tuple[str, str, float], list[Budget | None]] = {}
    counts: dict[tuple[str, str, float], list[int]] = {}
    for f in figures:
        for w in f.windows:
            for dimension in (f.slo.dimension, "all"):
                key = (f.slo.product, dimension, w.window_s)
                budgets.setdefault(key, []).append(w.budget)
                c = counts.setdefault(key, [0, 0])
                c[0] += w.good_evaluations
                c[1] += w.evaluations
    return {key: GroupFigures(share_meeting(budgets[key]), Share(*counts[key])) for key in sorted(budgets)}


def product_figures(slos: Sequence[Slo], histories: dict[str, SloHistory], now: float) -> list[SloFigures]:
    return [slo_figures(slo, histories.get(slo.id), now) for slo in slos]
