"""The results history as the exporter holds it: read from the store incrementally (only rows newer than the last
one seen), kept per SLO in time order with prefix sums, so every windowed SLI is a couple of binary searches, not a
scan of the history. Scrape cost therefore stays flat as the store grows.

The window sums mirror slo/budget.py's definitions exactly (occurrences in (start, end]; each outcome holding until
the next evaluation; errors bad); tests check the two agree. Freshness SLIs use budget.freshness_time_sli over the
update times, which are few (one per build), so they need no index.
"""

from __future__ import annotations

import bisect
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from dagster_project.results.store import ResultsStore
from dagster_project.slo.budget import Point

OUTCOMES = ("pass", "fail", "error")


def outcome(passed: bool | None) -> str:
    return "error" if passed is None else ("pass" if passed else "fail")


@dataclass
class SloHistory:
    """One SLO's evaluations sorted by evaluated-at, with running sums for O(log n) window queries."""

    at: list[float] = field(default_factory=list)
    good: list[bool] = field(default_factory=list)
    observed: list[float | None] = field(default_factory=list)
    good_count: list[int] = field(default_factory=lambda: [0])  # good_count[k] = good among the first k
    good_time: list[float] = field(default_factory=lambda: [0.0])  # good time over intervals [at[m], at[m+1]), m < k
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    last_passed: bool | None = None
    last_observed: float | None = None
    last_at: float | None = None
    last_seq: int = -1
    dirty: bool = False  # sums out of date after an out-of-order insert; rebuilt by History.refresh

    def add(self, seq: int, at: float, passed: bool | None, observed: float | None) -> None:
        self.totals[outcome(passed)] += 1
        if seq > self.last_seq and (self.last_at is None or at >= self.last_at):
            self.last_seq, self.last_at, self.last_passed, self.last_observed = seq, at, passed, observed
        if not self.dirty and (not self.at or at >= self.at[-1]):
            self._append(at, passed is True, observed)
            return
        # An evaluation for an earlier time (a run with an older --as-of): insert it in place and rebuild the sums
        # once, when the batch is read (History.refresh), not once per row.
        k = bisect.bisect_right(self.at, at)
        self.at.insert(k, at)
        self.good.insert(k, passed is True)
        self.observed.insert(k, observed)
        self.dirty = True

    def _append(self, at: float, good: bool, observed: float | None) -> None:
        if self.at:
            self.good_time.append(self.good_time[-1] + (at - self.at[-1] if self.good[-1] else 0.0))
        self.at.append(at)
        self.good.append(good)
        self.observed.append(observed)
        self.good_count.append(self.good_count[-1] + int(good))

    def rebuild(self) -> None:
        """Recompute the running sums after out-of-order inserts."""
        self.dirty = False
        at, good, observed = self.at, self.good, self.observed
        self.at, self.good, self.observed, self.good_count, self.good_time = [], [], [], [0], [0.0]
        for a, g, o in zip(at, good, observed, strict=True):
            self._append(a, g, o)

    def occurrence(self, start: float, end: float) -> tuple[int, int]:
        """(good, all) evaluations in (start, end]."""
        if self.dirty:
            self.rebuild()
        i, j = bisect.bisect_right(self.at, start), bisect.bisect_right(self.at, end)
        return self.good_count[j] - self.good_count[i], j - i

    def _good_time_until(self, t: float) -> float:
        """Good time from the first evaluation up to t (each outcome holds until the next)."""
        k = bisect.bisect_right(self.at, t)  # evaluations at or before t
        if k == 0:
            return 0.0
        return self.good_time[k - 1] + (t - self.at[k - 1] if self.good[k - 1] else 0.0)

    def time(self, start: float, end: float) -> tuple[float, float]:
        """(good time, known time) in (start, end]."""
        if self.dirty:
            self.rebuild()
        if not self.at or end <= self.at[0]:
            return 0.0, 0.0
        lo = max(start, self.at[0])
        if end <= lo:
            return 0.0, 0.0
        return self._good_time_until(end) - self._good_time_until(lo), end - lo

    def points(self) -> list[Point]:
        return [Point(a, g, o) for a, g, o in zip(self.at, self.good, self.observed, strict=True)]


class History:
    """Every SLO's history, caught up with the store by `refresh()` (reads only the rows it has not seen)."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.slos: dict[str, SloHistory] = {}
        self.last_seq = 0
        self.rows = 0

    def refresh(self, batch: int = 100_000) -> int:
        """Read new rows; returns how many. A missing store is an empty history."""
        if not self.store.exists():
            return 0
        read = 0
        with ResultsStore(self.store) as store:
            while True:
                rows = list(_rows_after(store.con, self.last_seq, batch))
                for seq, slo_id, at, passed, observed in rows:
                    self.slos.setdefault(slo_id, SloHistory()).add(
                        seq, at, None if passed is None else bool(passed), observed
                    )
                    self.last_seq = seq
                read += len(rows)
                if len(rows) < batch:
                    break
        for history in self.slos.values():
            if history.dirty:
                history.rebuild()
        self.rows += read
        return read


def _rows_after(
    con: sqlite3.Connection, seq: int, limit: int
) -> Iterator[tuple[int, str, float, int | None, float | None]]:
    with closing(
        con.execute(
            "SELECT seq, slo_id, evaluated_at, passed, observed FROM evaluations WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        )
    ) as cursor:
        yield from cursor
