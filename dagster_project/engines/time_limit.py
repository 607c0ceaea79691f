"""A time limit on every query run for a spec: a timer thread interrupts the DuckDB connection when the limit passes,
and the interrupted query becomes QueryTimedOut ("timed out after 30s"), which the engines record as an error
result of the SLO. A spec's SQL (a custom check, a consumer query, a measure) can then never hang `slo check`, a
blocking build check or the exporter.

DuckDB's `interrupt()` is safe from another thread and harmless on an idle connection. One watchdog thread per process
serves every guarded block (a thread started and joined per query cost ~2.5 ms each: `slo check` runs its consumer
queries forty times). It interrupts a connection only while holding the lock that the guarded block takes to leave,
so an interrupt can never reach the next query.
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dagster_project.slo.domain import DEFAULT_TIMEOUT_S, format_value

if TYPE_CHECKING:  # loaded by time_limit itself: `slo validate` reaches this module without opening a database
    import duckdb

__all__ = ["DEFAULT_TIMEOUT_S", "QueryTimedOut", "describe", "time_limit"]


class QueryTimedOut(Exception):
    """A query ran past its time limit and was interrupted."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"timed out after {describe(seconds)}")


def describe(seconds: float) -> str:
    """30s, 1.5s, 5m, 250ms: as a spec would write it where it can."""
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size and float(seconds / size).is_integer():
            return f"{int(seconds / size)}{unit}"
    return format_value(seconds, "duration")


@dataclass(order=True)
class _Guard:
    deadline: float
    number: int
    con: Any = field(compare=False)  # anything with interrupt(): a DuckDB connection, a Spark job tag
    fired: bool = field(default=False, compare=False)
    done: bool = field(default=False, compare=False)


class _Watchdog:
    """One daemon thread interrupting the connections whose deadline passed, in deadline order."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.guards: list[_Guard] = []  # a heap by deadline; finished guards are dropped when they reach the top
        self.numbers = itertools.count()
        self.thread: threading.Thread | None = None

    def watch(self, con: Any, seconds: float) -> _Guard:
        guard = _Guard(time.monotonic() + seconds, next(self.numbers), con)
        with self.lock:
            heapq.heappush(self.guards, guard)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="slo-query-time-limit", daemon=True)
                self.thread.start()
            if self.guards[0] is guard:
                self.lock.notify()
        return guard

    def release(self, guard: _Guard) -> None:
        with self.lock:  # after this, the watchdog never touches the guard's connection again
            guard.done = True
            if self.guards and self.guards[0] is guard:
                self.lock.notify()  # drop it now rather than at its deadline: the heap stays small

    def _run(self) -> None:
        with self.lock:
            while True:
                while self.guards and self.guards[0].done:
                    heapq.heappop(self.guards)
                if not self.guards:
                    self.lock.wait()
                    continue
                left = self.guards[0].deadline - time.monotonic()
                if left > 0:
                    self.lock.wait(left)
                    continue
                guard = heapq.heappop(self.guards)
                guard.fired = True
                try:
                    guard.con.interrupt()
                except Exception:  # e.g. a connection closed inside its block: nothing to stop
                    guard.fired = False


_WATCHDOG = _Watchdog()


def _after_fork_in_child() -> None:
    global _WATCHDOG  # a forked child has no watchdog thread, and its lock may have been held at the fork
    _WATCHDOG = _Watchdog()


os.register_at_fork(after_in_child=_after_fork_in_child)


@contextmanager
def watched(target: Any, seconds: float) -> Iterator[_Guard]:
    """Call `target.interrupt()` once `seconds` have passed inside the block (the guard's `fired` says whether it
    did): for engines other than DuckDB, whose adapters turn the interrupted query into QueryTimedOut themselves."""
    guard = _WATCHDOG.watch(target, seconds)
    try:
        yield guard
    finally:
        _WATCHDOG.release(guard)


@contextmanager
def time_limit(con: duckdb.DuckDBPyConnection, seconds: float) -> Iterator[None]:
    """Run the block's queries on `con` for at most `seconds`; past it, QueryTimedOut. Wrap executing and fetching
    both: DuckDB may do the work in either."""
    import duckdb

    with watched(con, seconds) as guard:
        try:
            yield
        except duckdb.InterruptException as exc:
            if guard.fired:
                raise QueryTimedOut(seconds) from exc
            raise
