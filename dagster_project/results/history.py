"""An SLO's own earlier evaluations, read from the results store for the indicators judged against them
(indicators/base.py: Definition.history, HistoryWanted, History): one query for every such SLO of a check, before
anything is evaluated, so the engines never open the store.

History is what was recorded with an observed value (an error result is not), evaluated at or before the evaluation
time (a run replayed `--as-of` an earlier time sees only what came before it), oldest first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import closing
from datetime import UTC, datetime

from dagster_project.indicators.base import History, HistoryWanted, Previous
from dagster_project.results.store import ResultsStore


def read_history(store: ResultsStore, wanted: Mapping[str, HistoryWanted], as_of: datetime) -> dict[str, History]:
    """Each wanted SLO's history (an SLO never evaluated: an empty one), in one query: the most any SLO asks for
    (the longest window, the largest count) is read and each SLO's share cut from it."""
    if not wanted:
        return {}
    until = (as_of if as_of.tzinfo is not None else as_of.replace(tzinfo=UTC)).timestamp()
    windows = [w.window_s for w in wanted.values()]
    since = None if None in windows else until - max(w for w in windows if w is not None)
    counts = [w.last for w in wanted.values()]
    most = None if None in counts else max(c for c in counts if c is not None)
    ids = sorted(wanted)
    sql = (
        "SELECT slo_id, evaluated_at, observed, status, extra FROM (SELECT slo_id, evaluated_at, observed, status,"
        " extra, seq, row_number() OVER (PARTITION BY slo_id ORDER BY evaluated_at DESC, seq DESC) AS k"
        f" FROM evaluations WHERE slo_id IN ({', '.join('?' * len(ids))}) AND observed IS NOT NULL"
        " AND evaluated_at <= ?"
        + ("" if since is None else " AND evaluated_at >= ?")
        + ") AS ranked"
        + ("" if most is None else " WHERE k <= ?")
        + " ORDER BY slo_id, evaluated_at, seq"
    )
    args: list[object] = [*ids, until]
    args += [] if since is None else [since]
    args += [] if most is None else [most]
    found: dict[str, list[Previous]] = {slo_id: [] for slo_id in ids}
    with closing(store.execute(sql, args)) as cursor:
        for slo_id, evaluated_at, observed, status, extra in cursor:
            kept = json.loads(extra).get("kept") if extra else None
            found[slo_id].append(
                Previous(
                    evaluated_at=datetime.fromtimestamp(evaluated_at, UTC),
                    observed=float(observed),
                    status=status,
                    kept=kept if isinstance(kept, Mapping) else {},
                )
            )
    return {slo_id: History(_cut(tuple(found[slo_id]), wanted[slo_id], until)) for slo_id in ids}


def _cut(evaluations: tuple[Previous, ...], wanted: HistoryWanted, until: float) -> tuple[Previous, ...]:
    if wanted.window_s is not None:
        evaluations = tuple(e for e in evaluations if e.evaluated_at.timestamp() >= until - wanted.window_s)
    if wanted.last is not None:
        evaluations = evaluations[-wanted.last :] if wanted.last > 0 else ()
    return evaluations
