"""The results history as the exporter and the report hold it: read from the store incrementally (only rows newer
than the last one seen) into slo/attainment.py's indexed SloHistory, one per SLO, so every windowed SLI is a couple
of binary searches, not a scan of the history. Scrape cost therefore stays flat as the store grows.

Each row is judged as it was when it ran: its stored outcome, and for an age indicator the instant its data turned
stale by its stored threshold. Rows written before the store kept the indicator (schema version 3) take it from
`kinds` (the spec's indicator of that SLO id), the only thing the spec still decides about them.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from dagster_project.results.address import StoreAddress
from dagster_project.results.store import ResultsStore
from dagster_project.slo.attainment import SloHistory, good_until


class StoreGone(RuntimeError):
    """The store the history was read from is no longer there: serving its old numbers would hide that."""


class History:
    """Every SLO's history, caught up with the store by `refresh()` (reads only the rows it has not seen). A store
    that was replaced (another file or database store, or fewer rows than already read) is read again from the
    start. The store is a SQLite file or a PostgreSQL database (results/address.py): the same rows either way."""

    def __init__(self, store: StoreAddress, kinds: Mapping[str, str] | None = None) -> None:
        self.store = store
        self.kinds = dict(kinds or {})  # slo id -> indicator, for rows that do not say
        self.slos: dict[str, SloHistory] = {}
        self.last_seq = 0
        self.rows = 0
        self._identity: object = None  # ResultsStore.identity() of the store read so far
        # slo id -> (evaluated at, ((group label, observed), ...)) of its latest evaluation
        self.groups: dict[str, tuple[float, tuple[tuple[str, float | None], ...]]] = {}
        self.kept: dict[str, dict[str, object]] = {}  # slo id -> its latest evaluation's `kept`
        # slo id -> (evaluated at, seq, has extras) of each evaluation since its first one with extras, sorted: what
        # finds the latest evaluation at or before an earlier `now` (a replay with --as-of) without holding every
        # evaluation's groups; SLOs that never had groups or kept values cost nothing here.
        self._marks: dict[str, list[tuple[float, int, bool]]] = {}

    def _reset(self) -> None:
        self.slos, self.last_seq, self.rows, self._identity = {}, 0, 0, None
        self.groups, self.kept, self._marks = {}, {}, {}

    def _keep_latest(self, slo_id: str, seq: int, at: float, extra: str | None) -> None:
        """The groups and what the indicator kept (an anomaly's band) of each SLO's latest evaluation (by
        evaluated-at; a later write wins a tie): only the latest is held. An evaluation without them clears them."""
        found = json.loads(extra) if extra else {}
        has = bool(found.get("groups") or found.get("kept"))
        marks = self._marks.get(slo_id)
        if marks is None and has:
            marks = self._marks[slo_id] = []
        if marks is not None:
            bisect.insort(marks, (at, seq, has))
        latest = self.groups.get(slo_id)
        if latest is not None and at < latest[0]:
            return
        self.groups[slo_id] = (at, _groups(found))
        self.kept[slo_id] = dict(found.get("kept") or {})

    def extras_at(
        self, slo_ids: Iterable[str], now: float
    ) -> dict[str, tuple[tuple[tuple[str, float | None], ...], dict[str, object]]]:
        """Each SLO's groups and kept values of its latest evaluation at or before `now` (SLOs without any are
        left out). The latest is held; an earlier one (an exporter replaying an --as-of in the past) is read from
        the store by its seq, all in one query."""
        out: dict[str, tuple[tuple[tuple[str, float | None], ...], dict[str, object]]] = {}
        wanted: dict[int, str] = {}
        for slo_id in slo_ids:
            marks = self._marks.get(slo_id)
            if not marks:
                continue
            k = bisect.bisect_right(marks, (now, float("inf"), True)) - 1
            if k < 0 or not marks[k][2]:
                continue
            if k == len(marks) - 1:
                out[slo_id] = (self.groups[slo_id][1], self.kept[slo_id])
            else:
                wanted[marks[k][1]] = slo_id
        if wanted:
            with ResultsStore(self.store) as store:
                for seq, extra in store.extras(sorted(wanted)):
                    found = json.loads(extra) if extra else {}
                    out[wanted[seq]] = (_groups(found), dict(found.get("kept") or {}))
        return out

    def refresh(self, batch: int = 100_000) -> int:
        """Read new rows; returns how many. A store not created yet is an empty history; one that disappeared
        after being read raises StoreGone."""
        if isinstance(self.store, Path) and not self.store.exists():
            if self._identity is not None:
                raise StoreGone(f"{self.store}: the results store disappeared")
            return 0
        read = 0
        with ResultsStore(self.store) as store:
            identity = store.identity()
            newest = store.newest_seq()
            if (self._identity is not None and identity != self._identity) or newest < self.last_seq:
                self._reset()
            self._identity = identity
            while True:
                rows = store.rows_after(self.last_seq, batch)
                for seq, slo_id, at, passed, observed, threshold, indicator, status, extra in rows:
                    verdict = None if passed is None else bool(passed)
                    until = good_until(indicator or self.kinds.get(slo_id), at, verdict, observed, threshold)
                    self.slos.setdefault(slo_id, SloHistory()).add(at, verdict, observed, until, status == "warn")
                    self._keep_latest(slo_id, seq, at, extra)
                    self.last_seq = seq
                read += len(rows)
                if len(rows) < batch:
                    break
        for history in self.slos.values():
            if history.dirty:
                history.rebuild()
        self.rows += read
        return read


def _groups(found: Mapping[str, object]) -> tuple[tuple[str, float | None], ...]:
    groups = found.get("groups") or ()
    assert isinstance(groups, list | tuple)
    return tuple((g["group"], g["observed"]) for g in groups)
