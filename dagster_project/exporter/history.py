"""The results history as the exporter and the report hold it: read from the store incrementally (only rows newer
than the last one seen) into slo/attainment.py's indexed SloHistory, one per SLO, so every windowed SLI is a couple
of binary searches, not a scan of the history. Scrape cost therefore stays flat as the store grows.

Each row is judged as it was when it ran: its stored outcome, and for an age indicator the instant its data turned
stale by its stored threshold. Rows written before the store kept the indicator (schema version 3) take it from
`kinds` (the spec's indicator of that SLO id), the only thing the spec still decides about them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing
from pathlib import Path

from dagster_project.results.store import ResultsStore
from dagster_project.slo.attainment import SloHistory, good_until


class StoreGone(RuntimeError):
    """The store the history was read from is no longer there: serving its old numbers would hide that."""


class History:
    """Every SLO's history, caught up with the store by `refresh()` (reads only the rows it has not seen). A store
    that was replaced (another file, or fewer rows than already read) is read again from the start."""

    def __init__(self, store: Path, kinds: Mapping[str, str] | None = None) -> None:
        self.store = store
        self.kinds = dict(kinds or {})  # slo id -> indicator, for rows that do not say
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
                for seq, slo_id, at, passed, observed, threshold, indicator in rows:
                    verdict = None if passed is None else bool(passed)
                    until = good_until(indicator or self.kinds.get(slo_id), at, verdict, observed, threshold)
                    self.slos.setdefault(slo_id, SloHistory()).add(at, verdict, observed, until)
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
) -> Iterator[tuple[int, str, float, int | None, float | None, float, str | None]]:
    with closing(
        con.execute(
            "SELECT seq, slo_id, evaluated_at, passed, observed, threshold, indicator FROM evaluations"
            " WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        )
    ) as cursor:
        yield from cursor
