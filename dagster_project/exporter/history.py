"""The results history as the exporter holds it: read from the store incrementally (only rows newer than the last
one seen), kept per SLO in time order with prefix sums, so every windowed SLI is a couple of binary searches, not a
scan of the history. Scrape cost therefore stays flat as the store grows.

The window sums mirror slo/budget.py's definitions exactly (occurrences in (start, end]; each outcome holding until
the next evaluation; errors bad); tests check the two agree. Freshness SLIs start from the evaluation in force at
the window's start, with a running "newest update seen", instead of walking the whole history.
"""

from __future__ import annotations

import bisect
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from dagster_project.results.store import ResultsStore

OUTCOMES = ("pass", "fail", "error")


def outcome(passed: bool | None) -> str:
    return "error" if passed is None else ("pass" if passed else "fail")


@dataclass
class SloHistory:
    """One SLO's evaluations sorted by evaluated-at, with running sums for O(log n) window queries."""

    at: list[float] = field(default_factory=list)
    passed: list[bool | None] = field(default_factory=list)
    observed: list[float | None] = field(default_factory=list)
    good_count: list[int] = field(default_factory=lambda: [0])  # good_count[k] = good among the first k
    good_time: list[float] = field(default_factory=lambda: [0.0])  # good time over intervals [at[m], at[m+1]), m < k
    newest: list[float | None] = field(default_factory=list)  # newest update time seen by evaluations 0..k
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    dirty: bool = False  # sums out of date after an out-of-order insert; rebuilt before the next query

    def add(self, at: float, passed: bool | None, observed: float | None) -> None:
        """Rows come in the order they were written; equal times keep that order (the later write is latest)."""
        self.totals[outcome(passed)] += 1
        if not self.dirty and (not self.at or at >= self.at[-1]):
            self._append(at, passed, observed)
            return
        # An evaluation for an earlier time (a run with an older --as-of): insert it in place and rebuild the sums
        # once, before the next query, not once per row.
        k = bisect.bisect_right(self.at, at)
        self.at.insert(k, at)
        self.passed.insert(k, passed)
        self.observed.insert(k, observed)
        self.dirty = True

    def latest(self, now: float) -> int | None:
        """Index of the latest evaluation at or before now (one dated in the future is not "latest" yet)."""
        k = bisect.bisect_right(self.at, now)
        return k - 1 if k else None

    def _append(self, at: float, passed: bool | None, observed: float | None) -> None:
        if self.at:
            self.good_time.append(self.good_time[-1] + (at - self.at[-1] if self.passed[-1] is True else 0.0))
        update = None if observed is None else at - observed
        before = self.newest[-1] if self.newest else None
        self.newest.append(before if update is None else update if before is None else max(before, update))
        self.at.append(at)
        self.passed.append(passed)
        self.observed.append(observed)
        self.good_count.append(self.good_count[-1] + int(passed is True))

    def rebuild(self) -> None:
        """Recompute the running sums after out-of-order inserts."""
        self.dirty = False
        at, passed, observed = self.at, self.passed, self.observed
        self.at, self.passed, self.observed, self.good_count, self.good_time = [], [], [], [0], [0.0]
        self.newest = []
        for a, p, o in zip(at, passed, observed, strict=True):
            self._append(a, p, o)

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
        return self.good_time[k - 1] + (t - self.at[k - 1] if self.passed[k - 1] is True else 0.0)

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

    def freshness(self, threshold_s: float, start: float, end: float) -> float | None:
        """budget.freshness_time_sli over (start, end], starting from the evaluation in force at `start` (with the
        newest update seen by then) instead of walking the whole history: the same number, tested equal."""
        if self.dirty:
            self.rebuild()
        if not self.at or end <= self.at[0]:
            return None
        first = max(bisect.bisect_right(self.at, start) - 1, 0)
        bad = known = 0.0
        for i in range(first, len(self.at)):
            at = self.at[i]
            if at >= end:
                break
            newest = self.newest[i]
            until = self.at[i + 1] if i + 1 < len(self.at) else end
            lo, hi = max(at, start), min(until, end)
            if hi <= lo:
                continue
            known += hi - lo
            if self.passed[i] is None or newest is None:
                bad += hi - lo
            else:
                bad += max(0.0, hi - max(lo, newest + threshold_s))
        return 1.0 - bad / known if known > 0 else None


class StoreGone(RuntimeError):
    """The store the history was read from is no longer there: serving its old numbers would hide that."""


class History:
    """Every SLO's history, caught up with the store by `refresh()` (reads only the rows it has not seen). A store
    that was replaced (another file, or fewer rows than already read) is read again from the start."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.slos: dict[str, SloHistory] = {}
        self.last_seq = 0
        self.rows = 0
        self._identity: tuple[int, int] | None = None  # (device, inode) of the file read so far

    def _reset(self) -> None:
        self.slos, self.last_seq, self.rows, self._identity = {}, 0, 0, None

    def refresh(self, batch: int = 100_000) -> int:
        """Read new rows; returns how many. A store not created yet is an empty history; one that disappeared
        after being read raises StoreGone."""
        if not self.store.exists():
            if self._identity is not None:
                raise StoreGone(f"{self.store}: the results store disappeared")
            return 0
        stat = self.store.stat()
        identity = (stat.st_dev, stat.st_ino)
        read = 0
        with ResultsStore(self.store) as store:
            newest = store.con.execute("SELECT coalesce(max(seq), 0) FROM evaluations").fetchone()[0]
            if (self._identity is not None and identity != self._identity) or newest < self.last_seq:
                self._reset()
            self._identity = identity
            while True:
                rows = list(_rows_after(store.con, self.last_seq, batch))
                for seq, slo_id, at, passed, observed in rows:
                    self.slos.setdefault(slo_id, SloHistory()).add(
                        at, None if passed is None else bool(passed), observed
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
