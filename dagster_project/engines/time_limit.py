"""A time limit on every query run for a spec: a timer thread interrupts the DuckDB connection when the limit passes,
and the interrupted query becomes QueryTimedOut ("timed out after 30s"), which the engines record as an error
result of the SLO. A spec's SQL (a custom check, a consumer query, a measure) can then never hang `slo check`, a
blocking build check or the exporter.

DuckDB's `interrupt()` is safe from another thread and harmless on an idle connection; the timer is cancelled and
joined before the guarded block returns, so an interrupt can never reach the next query.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from dagster_project.slo.domain import DEFAULT_TIMEOUT_S, format_value

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


@contextmanager
def time_limit(con: duckdb.DuckDBPyConnection, seconds: float) -> Iterator[None]:
    """Run the block's queries on `con` for at most `seconds`; past it, QueryTimedOut. Wrap executing and fetching
    both: DuckDB may do the work in either."""
    fired = threading.Event()

    def stop() -> None:
        fired.set()
        con.interrupt()

    timer = threading.Timer(seconds, stop)
    timer.daemon = True
    timer.start()
    try:
        yield
    except duckdb.InterruptException as exc:
        if fired.is_set():
            raise QueryTimedOut(seconds) from exc
        raise
    finally:
        timer.cancel()
        timer.join()
